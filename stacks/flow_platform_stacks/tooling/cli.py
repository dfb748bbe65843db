"""``flow-platform``: render or check a stack offline (no cloud account, cluster or Pulumi CLI needed),
or read its live NFRs (``nfr``: the cluster's API and Prometheus), or generate its policy config.

Exit status: 0 success (no mandatory violation, every NFR met), 1 mandatory policy violations
(``check``), an NFR target missed (``nfr``) or a policy config that is not current
(``policy-config --check``), 2 bad configuration or usage, or the NFRs cannot be measured (``nfr``),
3 internal error (one line; ``FLOW_PLATFORM_DEBUG=1`` for the traceback).
"""

# Speed: the SDKs, pydantic and the stack program are imported inside the commands, so `--help`
# and usage errors answer without them (tests/test_cli_speed.py checks that pulumi is not imported).
import argparse
import gc
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from .render import StackFiles

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_CONFIG = 2
EXIT_INTERNAL = 3
POLICY_EXTRA = "pip install 'flow-platform[policy]'"


class UsageError(Exception):
    """A command line the program cannot act on: a missing file, a bad argument (exit 2)."""


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as error:
        raise UsageError(f"cannot read {what} {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise UsageError(f"{what} {path} is not valid JSON: {error}") from None


def _stack_outputs(pairs: list[str]) -> dict[str, dict[str, Any]]:
    """``NAME=FILE.json`` pairs: the outputs of stacks the program references."""
    outputs = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--stack-outputs takes NAME=FILE.json, not {pair!r}")
        value = _read_json(Path(path), "stack outputs file")
        if not isinstance(value, dict):
            raise UsageError(f"stack outputs file {path} must hold a JSON object of output names to values")
        outputs[name] = value
    return outputs


def _locate(args: argparse.Namespace) -> "StackFiles":
    from .render import StackFiles

    try:
        return StackFiles.locate(args.stack, args.project_dir)
    except FileNotFoundError as error:
        raise UsageError(str(error)) from None


def _render(args: argparse.Namespace) -> int:
    from .render import evaluate_with_stand_ins, write

    files = _locate(args)
    registrations, outputs, stand_ins = evaluate_with_stand_ins(files, _stack_outputs(args.stack_outputs))
    out = args.out or files.project_file.parent / "build" / files.stack
    summary = write(registrations, out, outputs, stand_ins)
    print(f"stack '{files.stack}': {len(registrations)} resources rendered to {out}")
    if stand_ins:
        print(f"  {len(stand_ins)} lookup answers are offline stand-ins, not facts: see {out / 'aws.md'}")
    for group, kinds in summary.items():
        counts = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))
        print(f"  {group}: {counts}")
    return EXIT_OK


def _require_policy_library() -> None:
    """The pack runs on this interpreter: its library comes with the ``policy`` extra."""
    try:
        import pulumi_policy  # noqa: F401
    except ImportError:
        raise UsageError(
            f"`flow-platform check` runs the policy pack, which needs pulumi-policy: {POLICY_EXTRA}"
            " (or pip install -e '.[dev]' in a clone)"
        ) from None


def _check(args: argparse.Namespace) -> int:
    """The engine's order: the pack starts with the evaluation and analyzes each resource as it
    registers (:class:`~.policy_check.StreamingAnalysis`), with the policy config of the env the
    stack file names; the config actually used is the one of the env the registered namespaces
    are labelled with (as before), and if that is another file the stack is analyzed again with it."""
    from .policy_check import (
        PROVIDER_EXPANDED,
        UNSEEN_FAILS,
        PolicyConfigError,
        StreamingAnalysis,
        group_by_resource,
        pack_python,
        running_pack,
        unseen_components,
    )
    from .render import evaluate_with_outputs

    files = _locate(args)
    root = files.project_file.parent
    if not pack_python(root / "policy").exists():  # the pack's own venv (pulumi install) is preferred
        _require_policy_library()
    if args.policy_config is not None and not Path(args.policy_config).is_file():
        raise UsageError(f"no policy config {args.policy_config}")
    stack_outputs = _stack_outputs(args.stack_outputs)
    planned = args.policy_config or _planned_config_file(files)
    planned_config = _try_policy_config(planned)
    streaming = None
    if planned_config is not None:
        try:
            streaming = StreamingAnalysis(root / "policy", planned_config)
        except Exception:  # the pack cannot even start: reported after the evaluation, as always
            streaming = None
    try:
        on_register = streaming.submit if streaming is not None else None
        registrations = evaluate_with_outputs(files, stack_outputs, on_register)[0]
        environment = _environment(registrations) or files.stack
        config_file = args.policy_config or root / "policy" / "config" / f"{environment}.json"
        if streaming is not None and Path(config_file) == planned:
            try:
                diagnostics = streaming.finish(registrations)
            except PolicyConfigError as error:
                raise UsageError(f"{config_file}: {error}") from None
        else:  # not the file the stack file's env names (or unreadable): today's order, sequentially
            if streaming is not None:
                streaming.close()
            config = _read_json(Path(config_file), "policy config")
            if not isinstance(config, dict):
                raise UsageError(f"policy config {config_file} must hold a JSON object")
            with running_pack(root / "policy") as analyzer:
                try:
                    analyzer.configure(config)
                except PolicyConfigError as error:
                    raise UsageError(f"{config_file}: {error}") from None
                diagnostics = analyzer.analyze(registrations)
    finally:
        if streaming is not None:
            streaming.close()
    mandatory = [d for d in diagnostics if d.level == "mandatory"]
    for urn, items in group_by_resource(diagnostics).items():
        print(urn)
        for d in sorted(items, key=lambda d: (d.level, d.policy, d.message)):
            print(f"  [{d.level}] {d.policy}: {d.message}")
    unseen = unseen_components(registrations)
    for reg in unseen:
        print(
            f"NOT JUDGED offline: {reg.urn}\n"
            f"  {PROVIDER_EXPANDED[reg.type]}: a real preview sends its children"
        )
    print(
        f"stack '{files.stack}' against {config_file}: {len(registrations)} resources,"
        f" {len(mandatory)} mandatory and {len(diagnostics) - len(mandatory)} advisory violation(s)"
        + (f", {len(unseen)} component(s) whose children the offline check cannot see" if unseen else "")
    )
    return EXIT_VIOLATIONS if mandatory or (unseen and UNSEEN_FAILS) else EXIT_OK


def _policy_config(args: argparse.Namespace) -> int:
    from .policy_config import config_path, dumps, exceptions_of, merged

    files = _locate(args)
    environment, exceptions = exceptions_of(files)
    path = config_path(files.project_file.parent, environment)
    if not path.is_file():
        raise UsageError(f"no {path}: write the env's policy settings there first (levels, caps, registries)")
    committed = _read_json(path, "policy config")
    if not isinstance(committed, dict):
        raise UsageError(f"policy config {path} must hold a JSON object")
    text = dumps(merged(committed, exceptions))
    if args.check:
        current = path.read_text()
        if current != text:
            print(
                f"{path} is not what the systems of stack '{files.stack}' generate:"
                f" run flow-platform policy-config {args.stack} --write",
                file=sys.stderr,
            )
            return EXIT_VIOLATIONS
        print(f"{path}: current ({len(exceptions)} exceptions from the systems)")
    elif args.write:
        path.write_text(text)
        print(f"{path}: written ({len(exceptions)} exceptions from the systems)")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _nfr(args: argparse.Namespace) -> int:
    from ..config.monitoring import MonitoringConfig, nfr_namespaces, nfr_systems, prometheus_url
    from ..loader import check_texts
    from .harness import read_stack_file
    from .nfr import NfrError, kubernetes_client, measure, report_json, report_table

    files = _locate(args)
    texts, secret_keys = read_stack_file(files.stack_file, files.project_file)
    cfg = check_texts(files.stack, texts, secret_keys)
    block = cfg.monitoring or MonitoringConfig()
    measured = nfr_namespaces(cfg)
    if not measured:
        raise UsageError(
            f"stack '{files.stack}' runs no system that measures NFRs ({', '.join(nfr_systems())})"
        )
    namespaces = args.namespace or measured
    unknown = sorted(set(namespaces) - set(measured))
    if unknown:
        raise UsageError(
            f"--namespace {', '.join(unknown)}: not measured here (measured: {', '.join(measured)})"
        )
    url = args.prometheus_url or block.prometheus_url
    if url is None:
        raise UsageError(
            "no Prometheus to read the ulimit NFR from: set monitoring.prometheusUrl in the stack file"
            " or pass --prometheus-url (e.g. http://localhost:9090 after kubectl port-forward)"
        )
    try:
        url = prometheus_url(url)
    except ValueError as error:
        raise UsageError(f"--prometheus-url: {error}") from None
    if cfg.kubernetes.kubeconfig is not None and args.kubeconfig is None:
        raise UsageError(
            f"stack '{files.stack}' reaches its cluster through kubernetes.kubeconfig, a secret this"
            " command cannot decrypt: pass --kubeconfig FILE"
        )
    context = args.context or cfg.kubernetes.context
    try:
        api = kubernetes_client(args.kubeconfig, context)
        results = measure(
            api,
            url,
            namespaces,
            block.ulimit_threshold,
            block.targets.max_restarts,
            block.targets.min_ulimit_percent,
        )
    except NfrError as error:
        raise UsageError(f"stack '{files.stack}': {error}") from None
    report = report_json if args.json else report_table
    print(report(files.stack, block.ulimit_threshold, results))
    met = all(r.restarts_met and r.ulimit_met for r in results)
    return EXIT_OK if met else EXIT_VIOLATIONS


def _planned_config_file(files: "StackFiles") -> Path | None:
    """``policy/config/<env>.json`` of the env the stack file names, known before the evaluation.

    It is the file :func:`_environment` leads to whenever the stack registers a namespace (every
    namespace is labelled with the validated ``environment``); ``_check`` compares the two after
    the evaluation. None when the stack file names no env (the evaluation reports why).
    """
    from .. import PROJECT
    from .harness import read_stack_file

    config, _ = read_stack_file(files.stack_file, files.project_file)
    environment = config.get(f"{PROJECT}:environment")
    if not environment or "/" in environment or environment.startswith("."):
        return None
    return files.project_file.parent / "policy" / "config" / f"{environment}.json"


def _try_policy_config(path: Path | None) -> dict[str, Any] | None:
    """The policy config at ``path`` if it reads as a JSON object; its errors are reported after
    the evaluation, in the order they always were, by ``_check``'s sequential path."""
    if path is None:
        return None
    try:
        config = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) else None


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flow-platform",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    render = sub.add_parser("render", help="run the stack under Pulumi's mock runtime and write its objects")
    _stack_arguments(render)
    render.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory: new, empty, or an earlier render (default build/<stack>/)",
    )
    render.set_defaults(handler=_render)
    check = sub.add_parser("check", help="run the stack offline through the policy pack, as a PR check")
    _stack_arguments(check)
    check.add_argument("--policy-config", type=Path, default=None, help="default policy/config/<env>.json")
    check.set_defaults(handler=_check)
    policy = sub.add_parser(
        "policy-config",
        help="policy/config/<env>.json: its settings with the exceptions of the systems the stack deploys",
    )
    policy.add_argument("stack", help="stack name (dev, tst, uat, prd) or a path to a Pulumi.<stack>.yaml")
    policy.add_argument("--project-dir", type=Path, default=None, help="directory holding Pulumi.yaml")
    action = policy.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="write the file (default: print it)")
    action.add_argument("--check", action="store_true", help="exit 1 unless the committed file is current")
    policy.set_defaults(handler=_policy_config)
    nfr = sub.add_parser(
        "nfr",
        help="read both NFRs live (pod restarts from the cluster, workloads meeting the ulimit from"
        " Prometheus); exit 1 when one misses its target",
    )
    nfr.add_argument("stack", help="stack name (dev, tst, uat, prd) or a path to a Pulumi.<stack>.yaml")
    nfr.add_argument("--project-dir", type=Path, default=None, help="directory holding Pulumi.yaml")
    nfr.add_argument("--json", action="store_true", help="print JSON instead of a table")
    nfr.add_argument("--prometheus-url", default=None, help="default: monitoring.prometheusUrl")
    nfr.add_argument(
        "--kubeconfig", default=None, help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)"
    )
    nfr.add_argument("--context", default=None, help="kubeconfig context (default: kubernetes.context)")
    nfr.add_argument(
        "--namespace", action="append", default=[], help="only this measured namespace; repeatable"
    )
    nfr.set_defaults(handler=_nfr)
    return parser


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse: usage errors exit 2, --help exits 0
        return exit_.code if isinstance(exit_.code, int) else EXIT_CONFIG
    track_event_loops()
    try:
        code: int = args.handler(args)
    except UsageError as error:
        print(f"flow-platform: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except Exception as error:
        # imported here, not at the top, to keep `--help` fast; a command has imported them already
        from ..errors import ConfigError
        from .render import OutputDirError

        if isinstance(error, ConfigError):
            print(error, file=sys.stderr)
            return EXIT_CONFIG
        if isinstance(error, OutputDirError):
            print(f"flow-platform: {error}", file=sys.stderr)
            return EXIT_CONFIG
        if os.environ.get("FLOW_PLATFORM_DEBUG"):
            import traceback

            traceback.print_exc()
        print(
            f"flow-platform: internal error ({_one_line(error)}); a bug, please report it"
            " (FLOW_PLATFORM_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    finally:
        close_event_loops()
    return code


def run() -> NoReturn:
    """The ``flow-platform`` command: :func:`main` without paying Python's garbage collector.

    A run is short and its objects live until exit, so cyclic collection only costs time (a third
    of ``render``), during the run and again at interpreter exit; ``gc.freeze()`` moves everything
    to the permanent generation, which shutdown does not traverse. Output is identical; memory is a
    few MiB more. Tests call :func:`main`, which leaves the collector of their process alone.
    """
    gc.disable()
    code = main()
    gc.freeze()
    sys.exit(code)


def track_event_loops() -> None:
    """Record every event loop made from here on (Pulumi's runtime makes one per evaluation), so
    :func:`close_event_loops` closes them without scanning the heap: ``gc.get_objects()`` after a
    prd evaluation walks ~460,000 objects, about a second of every ``render`` and ``check``."""
    import asyncio
    import weakref

    if type(asyncio.get_event_loop_policy()) is not asyncio.DefaultEventLoopPolicy:
        return  # tracking already, or someone else's policy (an embedding program): leave it

    class TrackingPolicy(asyncio.DefaultEventLoopPolicy):
        """The default policy, remembering the loops it made (weakly: closed ones may go)."""

        def __init__(self) -> None:
            super().__init__()
            self.loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

        def new_event_loop(self) -> asyncio.AbstractEventLoop:
            loop = super().new_event_loop()
            self.loops.add(loop)
            return loop

    asyncio.set_event_loop_policy(TrackingPolicy())


def close_event_loops() -> None:
    """Close every event loop Pulumi's runtime opened, so interpreter shutdown stays quiet.

    A loop left open is closed by its ``__del__`` during shutdown, after its self-pipe may already
    be gone: that is the ``BaseEventLoop.__del__ ... Invalid file descriptor`` noise.
    """
    if "asyncio" not in sys.modules:  # nothing ran an event loop (usage errors)
        return
    import asyncio
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        policy = asyncio.get_event_loop_policy()
        try:
            current: asyncio.AbstractEventLoop | None = policy.get_event_loop()
        except RuntimeError:
            current = None
    loops = {id(o): o for o in getattr(policy, "loops", ())}
    if current is not None:
        loops[id(current)] = current
    for loop in loops.values():
        if not loop.is_running() and not loop.is_closed():
            loop.close()
    policy.set_event_loop(None)


if __name__ == "__main__":
    run()
