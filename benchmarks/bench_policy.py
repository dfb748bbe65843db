"""Policy analysis time per resource over all four stacks, through the Analyzer protocol.

Run by hand (not part of the tests):  .venv/bin/python benchmarks/bench_policy.py [--runs 5]

Timed: every ``Analyze`` call and the ``AnalyzeStack`` call, as the engine makes them, with the
pack's work behind them. Not timed: turning the stacks' Python inputs into wire ``Struct``s once per
env (the engine's own marshalling, done in Go by the Pulumi CLI and here, in Python, before timing).
"""

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from flow_platform_stacks.tooling.policy_check import _struct, running_pack
from flow_platform_stacks.tooling.render import StackFiles, evaluate

ROOT = Path(__file__).resolve().parents[1]


def _pack_cpu_seconds(pid: int) -> float:
    """User + system CPU time of the pack process (Linux /proc): what the pack itself spends,
    independent of how busy the machine is."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(runs: int) -> list[tuple[str, int, float, float]]:
    """Per env: resources, median analysis seconds (wall) and the pack's median CPU seconds."""
    stacks = {env: evaluate(StackFiles.locate(env, ROOT)) for env in ("dev", "tst", "uat", "prd")}
    wire = {env: {reg.urn: _struct(reg.inputs) for reg in regs} for env, regs in stacks.items()}
    rows = []
    with running_pack(ROOT / "policy") as analyzer:
        pid = analyzer.process.process.pid if analyzer.process else 0
        for env, registrations in stacks.items():
            analyzer.configure(json.loads((ROOT / "policy" / "config" / f"{env}.json").read_text()))
            samples, cpu = [], []
            for _ in range(runs):
                start, start_cpu = time.perf_counter(), _pack_cpu_seconds(pid)
                analyzer.analyze_properties(registrations, wire[env])
                samples.append(time.perf_counter() - start)
                cpu.append(_pack_cpu_seconds(pid) - start_cpu)
            # every registered resource is analyzed, as the engine does
            rows.append((env, len(registrations), statistics.median(samples), statistics.median(cpu)))
    return rows


def summary(rows: list[tuple[str, int, float, float]]) -> tuple[int, float, float]:
    """All envs: resources, wall ms per resource, pack CPU ms per resource."""
    count = sum(r[1] for r in rows)
    return count, sum(r[2] for r in rows) * 1000 / count, sum(r[3] for r in rows) * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows = measure(args.runs)
    print(f"{'env':<5} {'resources':>9} {'analysis ms':>12} {'per resource ms':>16} {'pack CPU ms/res':>16}")
    for env, count, seconds, cpu_seconds in rows:
        print(
            f"{env:<5} {count:>9} {seconds * 1000:>12.1f} {seconds * 1000 / count:>16.2f}"
            f" {cpu_seconds * 1000 / count:>16.2f}"
        )
    count, wall_ms, cpu_ms = summary(rows)
    print(f"all   {count:>9} {'':>12} {wall_ms:>16.2f} {cpu_ms:>16.2f}")


if __name__ == "__main__":
    main()
