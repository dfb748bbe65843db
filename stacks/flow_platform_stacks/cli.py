"""``flow-platform``: render a stack offline (no cloud account, cluster or Pulumi CLI needed)."""

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .render import StackFiles, evaluate, write

EXIT_CONFIG = 2


def _stack_outputs(pairs: list[str]) -> dict[str, dict[str, Any]]:
    """``NAME=FILE.json`` pairs: the outputs of stacks the program references."""
    import json

    outputs = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep:
            raise ValueError(f"--stack-outputs takes NAME=FILE.json, not {pair!r}")
        outputs[name] = json.loads(Path(path).read_text())
    return outputs


def _render(args: argparse.Namespace) -> int:
    files = StackFiles.locate(args.stack, args.project_dir)
    registrations = evaluate(files, _stack_outputs(args.stack_outputs))
    out = args.out or files.project_file.parent / "build" / files.stack
    summary = write(registrations, out)
    print(f"stack '{files.stack}': {len(registrations)} resources rendered to {out}")
    for group, kinds in summary.items():
        counts = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))
        print(f"  {group}: {counts}")
    return 0


def _check(args: argparse.Namespace) -> int:
    import json

    from .policy_check import PROVIDER_EXPANDED, group_by_resource, running_pack, unseen_components

    files = StackFiles.locate(args.stack, args.project_dir)
    registrations = evaluate(files, _stack_outputs(args.stack_outputs))
    root = files.project_file.parent
    environment = _environment(registrations) or files.stack
    config_file = args.policy_config or root / "policy" / "config" / f"{environment}.json"
    config = json.loads(Path(config_file).read_text())
    with running_pack(root / "policy") as analyzer:
        analyzer.configure(config)
        diagnostics = analyzer.analyze(registrations)
    mandatory = [d for d in diagnostics if d.level == "mandatory"]
    for urn, items in group_by_resource(diagnostics).items():
        print(urn)
        for d in sorted(items, key=lambda d: (d.level, d.policy, d.message)):
            print(f"  [{d.level}] {d.policy}: {d.message}")
    unseen = unseen_components(registrations)
    for reg in unseen:
        print(f"NOT JUDGED offline: {reg.urn}\n  {PROVIDER_EXPANDED[reg.type]}: a real preview sends its children")
    print(
        f"stack '{files.stack}' against {config_file}: {len(registrations)} resources,"
        f" {len(mandatory)} mandatory and {len(diagnostics) - len(mandatory)} advisory violation(s)"
        + (f", {len(unseen)} component(s) whose children the offline check cannot see" if unseen else "")
    )
    return 1 if mandatory or unseen else 0


def _environment(registrations: list[Any]) -> str | None:
    for reg in registrations:
        labels = (reg.inputs.get("metadata") or {}).get("labels") or {}
        if reg.type == "kubernetes:core/v1:Namespace" and "deployment" in labels:
            return str(labels["deployment"])
    return None


def _stack_arguments(parser: argparse.ArgumentParser) -> None:
    """What every command needs to find and evaluate a stack."""
    parser.add_argument("stack", help="stack name (dev, tst, uat, prd) or a path to a Pulumi.<stack>.yaml")
    parser.add_argument("--project-dir", type=Path, default=None, help="directory holding Pulumi.yaml")
    parser.add_argument(
        "--stack-outputs",
        action="append",
        default=[],
        metavar="NAME=FILE.json",
        help="outputs of a referenced stack (aws.clusterStack), as JSON; repeatable",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flow-platform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    render = sub.add_parser("render", help="run the stack under Pulumi's mock runtime and write its objects")
    _stack_arguments(render)
    render.add_argument("--out", type=Path, default=None, help="output directory (default build/<stack>/)")
    render.set_defaults(handler=_render)
    check = sub.add_parser("check", help="run the stack offline through the policy pack, as a PR check")
    _stack_arguments(check)
    check.add_argument("--policy-config", type=Path, default=None, help="default policy/config/<env>.json")
    check.set_defaults(handler=_check)
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG
    except (FileNotFoundError, ValueError) as error:
        print(f"flow-platform: {error}", file=sys.stderr)
        return 1
    finally:
        _close_event_loop()
    return code


def _close_event_loop() -> None:
    """Close the loop Pulumi's runtime left open, so interpreter shutdown stays quiet."""
    with contextlib.suppress(RuntimeError):
        loop = asyncio.get_event_loop_policy().get_event_loop()
        if not loop.is_running():
            loop.close()


if __name__ == "__main__":
    sys.exit(main())
