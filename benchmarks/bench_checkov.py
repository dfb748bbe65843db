"""`flow-platform check prd` against checkov's Kubernetes checks on the same rendered manifests (#20).

    .venv/bin/python benchmarks/bench_checkov.py [--pairs 5] [--scales 1,16] [--checkov PATH]

checkov is never a project dependency: it runs from its own virtualenv, ``.cache/bench-checkov``
(made on first use: ``python3 -m venv`` + ``pip install checkov==CHECKOV_VERSION``), or the
executable ``--checkov`` names.

Both sides are whole processes, run interleaved (ours, checkov, checkov, ours, ...); the figure is
the median of the per-pair ratios (checkov / ours): on a shared, loaded machine only ratios mean
anything. Scale 1 is the real command, ``flow-platform check prd``: stack evaluation, the policy
pack started as the Pulumi CLI starts it, every resource analyzed over gRPC; checkov gets the
``*.yaml`` files ``flow-platform render prd`` wrote. At scale N, ours is N evaluations of prd and
one pack, started first, analyzing the N copies' resources as they register (each copy's URNs made
distinct), as N stacks checked in one process the way ``check`` checks one; checkov gets N copies
of the manifest files in one directory.
"""

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flow_platform_stacks.tooling.harness import Registration

ROOT = Path(__file__).resolve().parents[1]
CHECKOV_VERSION = "3.3.30"
CHECKOV_VENV = ROOT / ".cache" / "bench-checkov"
STACK = "prd"


def checkov_executable(given: str | None) -> Path:
    if given:
        return Path(given)
    exe = CHECKOV_VENV / "bin" / "checkov"
    if not exe.exists():
        subprocess.run(["python3", "-m", "venv", str(CHECKOV_VENV)], check=True)
        pip = [str(CHECKOV_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, f"checkov=={CHECKOV_VERSION}"], check=True)
    return exe


def manifests(scale: int, into: Path) -> int:
    """``scale`` copies of prd's rendered ``*.yaml`` files in ``into``; the number of objects."""
    rendered = into.parent / "rendered"
    cli = ROOT / ".venv" / "bin" / "flow-platform"
    subprocess.run(
        [str(cli), "render", STACK, "--out", str(rendered), "--project-dir", str(ROOT)],
        check=True,
        capture_output=True,
    )
    into.mkdir()
    objects = 0
    for path in sorted(rendered.glob("*.yaml")):
        text = path.read_text()
        objects += text.count("\napiVersion:") + text.startswith("apiVersion:")
        for i in range(scale):
            (into / f"copy{i:02d}-{path.name}").write_text(text)
    return objects * scale


def ours_scaled(scale: int) -> None:
    """The check of ``scale`` prd stacks in one process (the ``--ours`` mode, run as a subprocess),
    in ``flow-platform check``'s order and with its settings: the pack started before the
    evaluations, each resource analyzed as it registers, the stack at the end; no cyclic GC."""
    gc.disable()
    from flow_platform_stacks.tooling.policy_check import StreamingAnalysis
    from flow_platform_stacks.tooling.render import StackFiles, evaluate_with_outputs

    files = StackFiles.locate(STACK, ROOT)
    config = json.loads((ROOT / "policy" / "config" / f"{STACK}.json").read_text())
    registrations = []
    with StreamingAnalysis(ROOT / "policy", config) as streaming:
        for i in range(scale):

            def copy(reg: "Registration", suffix: str = f"-copy{i}") -> None:
                reg.urn += suffix
                streaming.submit(reg)

            registrations += evaluate_with_outputs(files, None, copy)[0]
        diagnostics = streaming.finish(registrations)
    print(f"{len(registrations)} resources, {len(diagnostics)} diagnostics")
    gc.freeze()


def _timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system of the process and its children)."""
    before = os.times()
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    after = os.times()
    if done.returncode not in (0, 1):  # 1: violations found (checkov always finds some)
        tail = f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        raise SystemExit(f"{command[0]} exited {done.returncode}:\n{tail}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu


def compare(scale: int, pairs: int, checkov: Path, work: Path) -> dict[str, float]:
    directory = work / f"x{scale}" / "manifests"
    directory.parent.mkdir(parents=True)
    objects = manifests(scale, directory)
    if scale == 1:
        ours = [str(ROOT / ".venv" / "bin" / "flow-platform"), "check", STACK, "--project-dir", str(ROOT)]
    else:
        ours = [sys.executable, __file__, "--ours", str(scale)]
    theirs = [
        str(checkov),
        "--directory",
        str(directory),
        "--framework",
        "kubernetes",
        "--quiet",
        "--compact",
        "--skip-download",
        "--output",
        "json",
    ]
    checkov_env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    samples = []
    for i in range(pairs):
        if i % 2 == 0:
            a, b = _timed(ours), _timed(theirs, checkov_env)
        else:
            b, a = _timed(theirs, checkov_env), _timed(ours)
        samples.append((a, b))
    return {
        "scale": scale,
        "objects": objects,
        "ours_s": statistics.median(a[0] for a, _ in samples),
        "checkov_s": statistics.median(b[0] for _, b in samples),
        "ratio": statistics.median(b[0] / a[0] for a, b in samples),
        "cpu_ratio": statistics.median(b[1] / a[1] for a, b in samples),
    }


def table(rows: list[dict[str, float]], pairs: int) -> str:
    lines = [
        f"`benchmarks/bench_checkov.py --pairs {pairs}` (checkov {CHECKOV_VERSION},"
        " `--framework kubernetes`): whole processes, interleaved; ratios are medians of per-pair"
        " ratios (checkov / ours).",
        "",
        "| scale | Kubernetes objects | `flow-platform check prd` | checkov | ratio (wall) | ratio (CPU) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['scale']}x | {r['objects']} | {r['ours_s']:.2f} s | {r['checkov_s']:.2f} s"
            f" | {r['ratio']:.2f} | {r['cpu_ratio']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--scales", default="1,16")
    parser.add_argument("--checkov", help="a checkov executable (default: its own venv in .cache/)")
    parser.add_argument("--ours", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ours:
        ours_scaled(args.ours)
        return
    checkov = checkov_executable(args.checkov)
    with tempfile.TemporaryDirectory() as work:
        rows = [compare(int(s), args.pairs, checkov, Path(work)) for s in args.scales.split(",")]
    print(table(rows, args.pairs), end="")


if __name__ == "__main__":
    main()
