"""Render time per added OpenflowApplication stays linear (#17).

    .venv/bin/python benchmarks/bench_openflow_apps.py [--sizes 1 8 32 128] [--rounds 5]

Registers N OpenflowApplication components (each one SparkApplication CR with its driver and
executor templates, checked args) under Pulumi's mocks, for each N, in interleaved rounds (the
machine is shared: only ratios mean anything). Reports the median time per application for each N
and two ratios: the largest N's per-application time to the smallest's, and the marginal cost of
one more application at the last step to that at the first (the fixed cost of a program run
cancels out). About 1 (or below, for the first) when one more application costs the same however
many are there (linear total); clearly above 1 when it grows (something quadratic, such as a scan
of all earlier resources per new one). The
pure ``spark_application`` (no Pulumi) is timed the same way.
"""

import argparse
import os
import statistics
import sys
import time
from typing import Any

from flow_platform.openflow import OpenflowApplication, spark_application
from flow_platform_stacks.tooling.harness import run_program

APP: dict[str, Any] = {
    "namespace": "openflow-dev",
    "env": "dev",
    "image": "111111111111.dkr.ecr.us-west-2.amazonaws.com/flow-platform/spark:4.0.1",
    "spark_version": "4.0.1",
    "main_application_file": "local:///opt/spark/examples/jars/spark-examples_2.13-4.0.1.jar",
    "main_class": "org.apache.spark.examples.SparkPi",
    "driver": {"cores": 1, "memory": "2Gi"},
    "executor": {"cores": 2, "memory": "4Gi", "instances": 2},
    "driver_service_account": "spark-driver",
    "executor_service_account": "spark-executor",
}


def _render(count: int) -> float:
    """Seconds to register ``count`` applications under the mocks (one program run)."""

    def program() -> None:
        for i in range(count):
            OpenflowApplication(f"app-{i}", {**APP, "name": f"app-{i}"})  # type: ignore[typeddict-item]

    start = time.perf_counter()
    registrations = run_program("bench", {}, [], program=program)
    elapsed = time.perf_counter() - start
    crs = [r for r in registrations if r.type.endswith(":SparkApplication")]
    assert len(crs) == count, f"{len(crs)} SparkApplications registered for {count}"
    return elapsed


def _pure(count: int) -> float:
    start = time.perf_counter()
    for i in range(count):
        spark_application({**APP, "name": f"app-{i}"})  # type: ignore[typeddict-item]
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    sizes = sorted(set(args.sizes))
    if len(sizes) < 2 or sizes[0] < 1:
        parser.error("--sizes needs at least two positive sizes")
    _render(1)  # imports, SDK warm-up
    totals: dict[int, list[float]] = {n: [] for n in sizes}
    per_app: dict[int, list[float]] = {n: [] for n in sizes}
    pure: dict[int, list[float]] = {n: [] for n in sizes}
    for round_ in range(args.rounds):
        order = sizes if round_ % 2 == 0 else list(reversed(sizes))
        for n in order:
            seconds = _render(n)
            totals[n].append(seconds)
            per_app[n].append(seconds / n)
            pure[n].append(_pure(n) / n)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.rounds} interleaved rounds, {os.cpu_count()} cores, load average {load:.1f}")
    print(f"{'apps':>6} {'ms/app (mocks)':>15} {'ms/app (pure)':>14}")
    for n in sizes:
        print(
            f"{n:>6} {statistics.median(per_app[n]) * 1e3:>15.2f} {statistics.median(pure[n]) * 1e3:>14.3f}"
        )
    small, large = sizes[0], sizes[-1]
    ratio = statistics.median(per_app[large]) / statistics.median(per_app[small])
    pure_ratio = statistics.median(pure[large]) / statistics.median(pure[small])
    print(f"per-app time at {large} / at {small}: {ratio:.2f} (mocks), {pure_ratio:.2f} (pure); 1.0 = linear")
    # the marginal cost of one more application, first step against last: the fixed cost of a
    # program run (mock monitor, stack resource) cancels out
    median = {n: statistics.median(totals[n]) for n in sizes}
    first = (median[sizes[1]] - median[sizes[0]]) / (sizes[1] - sizes[0])
    last = (median[sizes[-1]] - median[sizes[-2]]) / (sizes[-1] - sizes[-2])
    print(
        f"marginal ms/app {sizes[0]}->{sizes[1]}: {first * 1e3:.2f},"
        f" {sizes[-2]}->{sizes[-1]}: {last * 1e3:.2f}; ratio {last / first:.2f} (1.0 = linear)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
