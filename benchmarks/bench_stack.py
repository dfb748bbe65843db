"""Stack evaluation and import overhead of flow-platform, measured against Pulumi's own cost.

Run by hand (not part of the tests):  .venv/bin/python benchmarks/bench_stack.py [--runs 7]

For each env it times the real program under the mock runtime, and a baseline that registers the
same resources (same types, names and inputs, read back from the render) as bare
``pulumi.CustomResource``/``ComponentResource`` objects under the same mocks. The ratio is the
program's own overhead (config validation, composition, pure functions) on top of the SDK.
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pulumi
from flow_platform_stacks.tooling.harness import Registration, read_stack_file, run_program
from flow_platform_stacks.tooling.render import StackFiles

ROOT = Path(__file__).resolve().parents[1]


def _baseline_program(registrations: list[Registration]) -> Any:
    def program() -> None:
        for reg in registrations:
            if reg.custom:
                pulumi.CustomResource(reg.type, reg.name, dict(reg.inputs))
            else:
                pulumi.ComponentResource(reg.type, reg.name)

    return program


def _median_seconds(fn: Any, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _import_seconds(module: str, runs: int) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    samples = [float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(runs)]
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"{'env':<5} {'resources':>9} {'program ms':>11} {'baseline ms':>12} {'ratio':>6}")
    for env in ("dev", "tst", "uat", "prd"):
        files = StackFiles.locate(env, ROOT)
        config, secrets = read_stack_file(files.stack_file, files.project_file)
        registrations = run_program(env, config, secrets)  # warm-up, and the baseline's input
        baseline = _baseline_program(registrations)
        program_s = _median_seconds(lambda: run_program(env, config, secrets), args.runs)  # noqa: B023
        base_s = _median_seconds(lambda: run_program(env, {}, [], program=baseline), args.runs)  # noqa: B023
        print(
            f"{env:<5} {len(registrations):>9} {program_s * 1000:>11.1f} {base_s * 1000:>12.1f}"
            f" {program_s / base_s:>6.2f}"
        )
    for ours_mod, theirs_mod in (
        ("flow_platform.k8s", "pulumi_kubernetes"),
        ("flow_platform.k8s, flow_platform.partek, flow_platform.aws", "pulumi_kubernetes, pulumi_aws"),
    ):
        ours = _import_seconds(ours_mod, args.runs)
        theirs = _import_seconds(theirs_mod, args.runs)
        print(
            f"import {ours_mod}: {ours * 1000:.0f} ms"
            f" vs {theirs_mod}: {theirs * 1000:.0f} ms (ratio {ours / theirs:.2f})"
        )


if __name__ == "__main__":
    main()
