"""flow-platform against a bare-SDK replay of the same resources, and the CLI's start-up (#20).

    .venv/bin/python benchmarks/bench_speed.py [--pairs 9] [--write-readme]

All sides run in this one process, interleaved (program, typed replay, untyped replay, then the
reverse order, ...), and the figures are medians of per-round ratios: on a shared, loaded machine
only ratios mean anything. A replay registers what the program registered (types, names, inputs,
parents, providers, ``depends_on``, ``protect``), in the same order, under the same mocks: the
typed replay through the SDKs' own classes (``pulumi_kubernetes.apps.v1.Deployment``, ...,
``apiextensions.CustomResource`` for custom resources), as a hand-written bare-SDK program would;
the untyped one through bare ``pulumi.CustomResource`` / ``ComponentResource`` /
``ProviderResource``. Program / typed replay is what flow-platform (config validation, composition,
components) adds to the SDK's own cost for the same resources. One SDK cost grows with our
composition, not with the resources: Pulumi takes a stack trace of every resource registration
(``pulumi.runtime.resource._get_stack_trace``), and components make those stacks deeper.
It then runs ``bench_policy.py`` (policy analysis per resource) and ``bench_checkov.py``
(``flow-platform check prd`` vs checkov, 1x and 16x) with the same count. ``--write-readme``
replaces the README's block between the ``bench_speed`` markers with all of it and the machine.
"""

import argparse
import datetime
import gc
import importlib
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
from flow_platform_stacks.tooling.harness import (
    FlowMocks,
    RecordingMonitor,
    Registration,
    read_stack_file,
    run_program,
)
from flow_platform_stacks.tooling.render import StackFiles
from pulumi.runtime import rpc
from pulumi_kubernetes.apiextensions import CustomResource

ROOT = Path(__file__).resolve().parents[1]
ENVS = ("dev", "tst", "uat", "prd")
BEGIN, END = "<!-- bench_speed: begin -->", "<!-- bench_speed: end -->"


def _typed_class(type_: str) -> type[pulumi.CustomResource] | None:
    """The SDK's own class for a type token, from the resource modules the SDK packages register."""
    pkg, mod, _ = type_.split(":")
    for module in rpc._RESOURCE_MODULES.get(f"{pkg}:{mod}", []):
        info = getattr(module, "mod_info", None)
        if info and type_ in info["classes"]:
            found: type[pulumi.CustomResource] = getattr(
                importlib.import_module(info["fqn"]), info["classes"][type_]
            )
            return found
    return None


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


CUSTOM_RESOURCE_KEYS = {"apiVersion", "kind", "metadata", "spec"}


def replay_program(registrations: list[Registration], typed: bool = False) -> Callable[[], None]:
    """A program registering ``registrations`` (in registration order) with the bare SDK.

    ``typed``: each custom resource through the SDK's own class (``Deployment``, ``Repository``, ...;
    custom resources such as FlinkDeployment through ``apiextensions.CustomResource``), as a
    hand-written bare-SDK program would; otherwise through bare ``pulumi.CustomResource``.
    ``tests/test_bench_replay.py`` checks that both register exactly what the program did."""
    classes = {r.type: _typed_class(r.type) for r in registrations if r.custom} if typed else {}
    # keyword arguments made once, outside the timed program: a hand-written program has them as code
    kwargs = {r.urn: {_snake(k): v for k, v in r.inputs.items()} for r in registrations} if typed else {}

    def custom(reg: Registration, opts: pulumi.ResourceOptions) -> pulumi.Resource:
        cls = classes.get(reg.type)
        if cls is not None:
            return cls(reg.name, opts, **kwargs[reg.urn])
        if typed and reg.type.startswith("kubernetes:") and set(reg.inputs) <= CUSTOM_RESOURCE_KEYS:
            return CustomResource(reg.name, opts=opts, **kwargs[reg.urn])
        return pulumi.CustomResource(reg.type, reg.name, dict(reg.inputs), opts)

    def program() -> None:
        made: dict[str, pulumi.Resource] = {}
        for reg in registrations:
            parent = made.get(reg.parent or "")
            provider = made.get(reg.provider or "")
            depends = [made[u] for u in reg.options.get("depends_on", []) if u in made]
            opts = pulumi.ResourceOptions(
                parent=parent,
                provider=provider if isinstance(provider, pulumi.ProviderResource) else None,
                depends_on=depends,
                protect=bool(reg.options.get("protect")),
            )
            if reg.type.startswith("pulumi:providers:"):
                package = reg.type.removeprefix("pulumi:providers:")
                made[reg.urn] = pulumi.ProviderResource(package, reg.name, dict(reg.inputs), opts)
            elif reg.custom:
                made[reg.urn] = custom(reg, opts)
            else:
                made[reg.urn] = pulumi.ComponentResource(reg.type, reg.name, None, opts)

    return program


def _timed(fn: Callable[[], Any]) -> float:
    """Wall time of ``fn`` with the garbage collector off, as the CLI runs (``cli.run``: a collection
    in the middle of one side would be charged to whichever side the heap happened to fill)."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    finally:
        gc.enable()


def stack_ratios(pairs: int) -> list[tuple[str, int, float, float, float, float, float]]:
    """Per env: resources, the program's, the typed replay's and the untyped replay's median times
    (ms), and the median per-round ratios program/typed and program/untyped."""
    rows = []
    for env in ENVS:
        files = StackFiles.locate(env, ROOT)
        config, secrets = read_stack_file(files.stack_file, files.project_file)
        monitor = RecordingMonitor(FlowMocks())
        run_program(env, config, secrets, monitor=monitor, project_dir=ROOT)  # warm-up; registration order
        registrations = list(monitor.registrations)
        typed, untyped = replay_program(registrations, typed=True), replay_program(registrations)

        def ours() -> None:
            run_program(env, config, secrets, project_dir=ROOT)  # noqa: B023

        def typed_sdk() -> None:
            run_program(env, {}, [], program=typed)  # noqa: B023

        def bare() -> None:
            run_program(env, {}, [], program=untyped)  # noqa: B023

        run_program(env, {}, [], program=typed)  # warm-up: the typed classes' imports
        samples = []
        for i in range(pairs):
            order = (ours, typed_sdk, bare) if i % 2 == 0 else (bare, typed_sdk, ours)
            times = {fn: _timed(fn) for fn in order}
            samples.append((times[ours], times[typed_sdk], times[bare]))
        rows.append(
            (
                env,
                len(registrations),
                *(statistics.median(sample[k] for sample in samples) * 1000 for k in range(3)),
                statistics.median(a / b for a, b, _ in samples),
                statistics.median(a / c for a, _, c in samples),
            )
        )
    return rows


def help_ratio(pairs: int) -> tuple[float, float]:
    """``flow-platform --help`` against a bare ``python -c pass``, as separate processes, interleaved."""
    cli = [sys.executable, "-c", "from flow_platform_stacks.tooling.cli import run; run()", "--help"]
    bare = [sys.executable, "-c", "pass"]
    samples = []
    for i in range(pairs):
        order = (cli, bare) if i % 2 == 0 else (bare, cli)
        times = {
            tuple(cmd): _timed(lambda c=cmd: subprocess.run(c, capture_output=True, check=True))
            for cmd in order
        }
        samples.append((times[tuple(cli)], times[tuple(bare)]))
    return statistics.median(a for a, _ in samples), statistics.median(a - b for a, b in samples)


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), Python {platform.python_version()},"
        f" {platform.system()} {platform.machine()}, load average {load:.1f},"
        f" {datetime.date.today().isoformat()}"
    )


def table(pairs: int) -> str:
    lines = [
        f"`benchmarks/bench_speed.py --pairs {pairs}` on {machine()}: medians of interleaved rounds;"
        " a ratio is the median of per-round ratios; each evaluation timed with the garbage collector off,"
        " as the CLI runs. The typed replay registers the same resources"
        " through the SDKs' typed classes (`Deployment`, `Repository`, `apiextensions.CustomResource`)"
        " as a hand-written bare-SDK program would (the issue's target: <= 1.1); the untyped replay"
        " through bare `CustomResource` (a floor no real program reaches).",
        "",
        "| env | resources | flow-platform | typed replay | untyped replay | ratio to typed"
        " | ratio to untyped |",
        "|---|---|---|---|---|---|---|",
    ]
    for env, count, ours_ms, typed_ms, bare_ms, ratio, floor in stack_ratios(pairs):
        lines.append(
            f"| {env} | {count} | {ours_ms:.0f} ms | {typed_ms:.0f} ms | {bare_ms:.0f} ms"
            f" | {ratio:.2f} | {floor:.2f} |"
        )
    help_s, over_s = help_ratio(pairs)
    lines += [
        "",
        f"`flow-platform --help`: {help_s * 1000:.0f} ms, {over_s * 1000:.0f} ms more than `python -c pass`.",
    ]
    import bench_checkov  # beside this file (sys.path[0] when run as a script)
    import bench_policy

    count, wall_ms, cpu_ms = bench_policy.summary(bench_policy.measure(pairs))
    lines += [
        "",
        f"Policy analysis (`benchmarks/bench_policy.py`, median of {pairs}, over gRPC, `Analyze` and"
        f" `AnalyzeStack`): {count} resources of the four envs, {wall_ms:.2f} ms per resource (wall),"
        f" {cpu_ms:.2f} ms of the pack's own CPU per resource.",
        "",
    ]
    checkov = bench_checkov.checkov_executable(None)
    with tempfile.TemporaryDirectory() as work:
        rows = [bench_checkov.compare(scale, pairs, checkov, Path(work)) for scale in (1, 16)]
    lines.append(bench_checkov.table(rows, pairs).rstrip("\n"))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=9)
    parser.add_argument("--write-readme", action="store_true", help="replace the README's bench_speed table")
    args = parser.parse_args()
    text = table(args.pairs)
    print(text, end="")
    if args.write_readme:
        readme = ROOT / "README.md"
        current = readme.read_text()
        pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
        if not pattern.search(current):
            sys.exit(f"README.md has no {BEGIN} ... {END} block")
        readme.write_text(pattern.sub(lambda _: f"{BEGIN}\n{text}{END}", current))


if __name__ == "__main__":
    main()
