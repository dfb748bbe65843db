"""Policy analysis time per resource over all four stacks, through the Analyzer protocol.

Run by hand (not part of the tests):  .venv/bin/python benchmarks/bench_policy.py [--runs 5]
"""

import argparse
import json
import statistics
import time
from pathlib import Path

from flow_platform_stacks.policy_check import running_pack
from flow_platform_stacks.render import StackFiles, evaluate

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    stacks = {env: evaluate(StackFiles.locate(env, ROOT)) for env in ("dev", "tst", "uat", "prd")}
    print(f"{'env':<5} {'resources':>9} {'analysis ms':>12} {'per resource ms':>16}")
    total_resources, total_seconds = 0, 0.0
    with running_pack(ROOT / "policy") as analyzer:
        for env, registrations in stacks.items():
            analyzer.configure(json.loads((ROOT / "policy" / "config" / f"{env}.json").read_text()))
            samples = []
            for _ in range(args.runs):
                start = time.perf_counter()
                analyzer.analyze(registrations)
                samples.append(time.perf_counter() - start)
            seconds = statistics.median(samples)
            count = len([r for r in registrations if r.custom and not r.type.startswith("pulumi:providers:")])
            total_resources += count
            total_seconds += seconds
            print(f"{env:<5} {count:>9} {seconds * 1000:>12.1f} {seconds * 1000 / count:>16.2f}")
    per_resource = total_seconds * 1000 / total_resources
    print(f"all   {total_resources:>9} {total_seconds * 1000:>12.1f} {per_resource:>16.2f}")


if __name__ == "__main__":
    main()
