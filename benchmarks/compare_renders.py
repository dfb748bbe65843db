"""Render every committed env and compare it byte for byte with an earlier render of each.

    python benchmarks/compare_renders.py BEFORE_DIR [--envs dev,tst,uat,prd]

BEFORE_DIR holds ``<env>/`` directories written by ``flow-platform render <env> --out
BEFORE_DIR/<env>`` from the commit to compare with (render it from a worktree of that commit).
Prints each differing file with a unified diff head and exits 1 when any file differs. Used to
show that a refactoring leaves the rendered objects of every env unchanged.
"""

import argparse
import contextlib
import difflib
import io
import sys
import tempfile
from pathlib import Path

from flow_platform_stacks import ENVIRONMENTS
from flow_platform_stacks.tooling.cli import main as cli

ROOT = Path(__file__).resolve().parents[1]


def compare(before: Path, after: Path) -> list[str]:
    """Relative paths of files that differ, or exist on one side only."""
    names = {p.relative_to(before) for p in before.rglob("*") if p.is_file()}
    names |= {p.relative_to(after) for p in after.rglob("*") if p.is_file()}
    return sorted(
        str(n)
        for n in names
        if not (before / n).is_file()
        or not (after / n).is_file()
        or (before / n).read_bytes() != (after / n).read_bytes()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("--envs", default=",".join(ENVIRONMENTS))
    args = parser.parse_args(argv)
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for env in args.envs.split(","):
            out = Path(tmp) / env
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                code = cli(["render", env, "--out", str(out), "--project-dir", str(ROOT)])
            if code != 0:
                print(f"{env}: render failed with status {code}")
                failed = True
                continue
            differing = compare(args.before / env, out)
            print(f"{env}: {'identical' if not differing else f'{len(differing)} file(s) differ'}")
            for name in differing:
                failed = True
                old = (
                    (args.before / env / name).read_text().splitlines()
                    if (args.before / env / name).is_file()
                    else []
                )
                new = (out / name).read_text().splitlines() if (out / name).is_file() else []
                diff = list(
                    difflib.unified_diff(old, new, f"before/{env}/{name}", f"after/{env}/{name}", lineterm="")
                )
                print("\n".join(diff[:40]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
