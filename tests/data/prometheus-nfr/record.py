"""Record what a real Prometheus answers to ``flow-platform nfr``'s queries (tests/test_nfr_cli.py
serves these recordings from a stand-in HTTP server).

Run from the repository root with the Debian/Ubuntu ``prometheus`` package installed:

    .venv/bin/python tests/data/prometheus-nfr/record.py

It writes synthetic kube-state-metrics and cAdvisor series as OpenMetrics, turns them into TSDB
blocks (``promtool tsdb create-blocks-from openmetrics``), starts ``prometheus`` on them, sends each
query of :func:`flow_platform_stacks.tooling.nfr.ulimit_queries` to ``/api/v1/query`` and stores the
answers verbatim, one JSON file per scenario, keyed by query text.
"""

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from flow_platform_stacks.tooling.nfr import ulimit_queries

HERE = Path(__file__).resolve().parent
NAMESPACES = ("flink-nfr", "hyperflow-nfr")
"""The measured namespaces of tests/integration/test_nfr_cli.py's stack (flink and hyperflow stand in for
the NFR systems there, in namespaces of their own)."""
THRESHOLD = 65536
START = 1_700_000_000
"""Sample times: START .. START + 10 min, every 30 s; queries are evaluated at START + 10 min."""


def _owner(ns: str, pod: str, kind: str, name: str, controller: str = "true") -> str:
    return (
        f'kube_pod_owner{{namespace="{ns}",pod="{pod}",owner_kind="{kind}",owner_name="{name}",'
        f'owner_is_controller="{controller}",job="kube-state-metrics"}} 1'
    )


def _nofile(ns: str, pod: str, container: str, soft: int) -> str:
    return (
        f'container_ulimits_soft{{namespace="{ns}",pod="{pod}",container="{container}",'
        f'ulimit="max_open_files",job="kubelet"}} {soft}'
    )


# flink-nfr: a JobManager Deployment's ReplicaSet (compliant), TaskManagers owned by the JobManager
# Deployment with one at 1024 (non-compliant); hyperflow-nfr: the engine (unlimited -1) and redis.
OWNERS = [
    _owner("flink-nfr", "jm-1", "ReplicaSet", "analytics-7d9"),
    _owner("flink-nfr", "tm-1", "Deployment", "analytics-taskmanager"),
    _owner("flink-nfr", "tm-2", "Deployment", "analytics-taskmanager"),
    _owner("hyperflow-nfr", "engine-1", "ReplicaSet", "hyperflow-engine-5f6"),
    _owner("hyperflow-nfr", "redis-0", "StatefulSet", "redis"),
]
NOFILE = [
    _nofile("flink-nfr", "jm-1", "flink-main-container", 65536),
    _nofile("flink-nfr", "tm-1", "flink-main-container", 65536),
    _nofile("flink-nfr", "tm-2", "flink-main-container", 1024),
    _nofile("hyperflow-nfr", "engine-1", "hyperflow", -1),
    _nofile("hyperflow-nfr", "redis-0", "redis", 65536),
]
SCENARIOS = {"two-namespaces.json": OWNERS + NOFILE, "no-cadvisor.json": OWNERS}


def _openmetrics(lines: list[str]) -> str:
    out = []
    for metric in sorted({line.split("{", 1)[0] for line in lines}):
        out.append(f"# TYPE {metric} gauge")
        for line in lines:
            if line.startswith(metric + "{"):
                out += [f"{line} {START + step * 30}" for step in range(21)]
    return "\n".join(out) + "\n# EOF\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def record(name: str, lines: list[str], work: Path) -> None:
    data = work / name / "data"
    data.mkdir(parents=True)
    source = work / name / "series.om"
    source.write_text(_openmetrics(lines))
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)], check=True
    )
    config = work / name / "prometheus.yml"
    config.write_text("global: {}\n")
    port = _free_port()
    process = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=100y",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/-/ready", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        answers = {}
        for query in ulimit_queries(NAMESPACES, THRESHOLD).values():
            url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": query, "time": START + 600})
            with urllib.request.urlopen(url, timeout=10) as response:
                answers[query] = json.loads(response.read())
        version = json.loads(urllib.request.urlopen(f"{base}/api/v1/status/buildinfo").read())["data"][
            "version"
        ]
        (HERE / name).write_text(
            json.dumps({"prometheus": version, "namespaces": NAMESPACES, "answers": answers}, indent=2) + "\n"
        )
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> int:
    if not shutil.which("prometheus") or not shutil.which("promtool"):
        print("needs prometheus and promtool (apt-get install prometheus)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as work:
        for name, lines in SCENARIOS.items():
            record(name, lines, Path(work))
            print(f"wrote {HERE / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
