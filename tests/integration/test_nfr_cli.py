"""``flow-platform nfr`` against a real kube-apiserver and a Prometheus API stand-in.

Pods are created through the API with their status set through the status subresource (no kubelet
or controller runs here), so the restart counters and phases are what a cluster would report. The
Prometheus stand-in serves answers recorded from a real Prometheus 2.42 to the command's exact
queries (tests/data/prometheus-nfr/, record.py there); a query it has no recording for is an error,
so the command is also checked to ask exactly what was recorded.

openflow and EventFlow are not in the registry yet: flink and hyperflow stand in as the systems that
declare NFR monitoring, in namespaces of their own (flink-nfr, hyperflow-nfr).
"""

import contextlib
import io
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DATA, ROOT
from flow_platform.monitoring import NfrRules
from flow_platform_stacks.config import monitoring as monitoring_config
from flow_platform_stacks.tooling.cli import main
from flow_platform_stacks.tooling.harness import run_program
from flow_platform_stacks.tooling.render import kubernetes_objects

from .apiserver import ADMIN_TOKEN, ApiServer, Client, free_port

NAMESPACES = ("flink-nfr", "hyperflow-nfr")
RECORDINGS = DATA / "prometheus-nfr"


# --- the Prometheus stand-in ---------------------------------------------------------------------


def _handler(answers: dict[str, Any]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query).get("query", [""])[0]
            if url.path != "/api/v1/query":
                status, body = 404, b"404 page not found"
            elif query in answers:
                status, body = 200, json.dumps(answers[query]).encode()
            else:
                status = 400
                body = json.dumps(
                    {"status": "error", "errorType": "bad_data", "error": f"no recording for {query!r}"}
                ).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextlib.contextmanager
def prometheus(recording: str) -> Iterator[str]:
    recorded = json.loads((RECORDINGS / recording).read_text())
    assert tuple(recorded["namespaces"]) == NAMESPACES
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorded["answers"]))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# --- the cluster ---------------------------------------------------------------------------------


def _pod(namespace: str, name: str, init: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10"}],
    }
    if init:
        spec["initContainers"] = [{"name": "setup", "image": "registry.k8s.io/pause:3.10"}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def _status(name: str, restarts: int) -> dict[str, Any]:
    return {
        "name": name,
        "ready": True,
        "restartCount": restarts,
        "image": "registry.k8s.io/pause:3.10",
        "imageID": "",
        "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
    }


POD_STATES = {
    # flink-nfr: 2 restarts of a container, 1 of an init container, one Failed pod (restart counter 0)
    ("flink-nfr", "jm-1"): ("Running", 0, None),
    ("flink-nfr", "tm-1"): ("Running", 2, 1),
    ("flink-nfr", "tm-2"): ("Failed", 0, None),
    ("hyperflow-nfr", "engine-1"): ("Running", 0, None),
    ("hyperflow-nfr", "redis-0"): ("Running", 0, None),
}


@pytest.fixture(scope="module")
def pods(kube: Client) -> None:
    for namespace in NAMESPACES:
        kube.must(
            f"namespace {namespace}",
            kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
        )
        # no controller manager here: the account admission looks up must exist
        account = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "default", "namespace": namespace},
        }
        kube.must(f"default account of {namespace}", kube.create(account))
    for (namespace, name), (phase, restarts, init_restarts) in POD_STATES.items():
        kube.must(f"pod {name}", kube.create(_pod(namespace, name, init=init_restarts is not None)))
        status: dict[str, Any] = {"phase": phase, "containerStatuses": [_status("main", restarts)]}
        if init_restarts is not None:
            status["initContainerStatuses"] = [{**_status("setup", init_restarts), "ready": True}]
        if phase == "Failed":
            status["containerStatuses"][0]["ready"] = False
            status["containerStatuses"][0]["state"] = {
                "terminated": {
                    "exitCode": 1,
                    "reason": "Error",
                    "startedAt": "2026-01-01T00:00:00Z",
                    "finishedAt": "2026-01-01T00:01:00Z",
                }
            }
        kube.must(
            f"status of {name}",
            kube.request(
                "PATCH",
                f"/api/v1/namespaces/{namespace}/pods/{name}/status",
                {"status": status},
                content_type="application/merge-patch+json",
            ),
        )


def _kubeconfig(path: Path, apiserver: ApiServer, token: str, port: int | None = None) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "it",
                        "cluster": {
                            "server": f"https://127.0.0.1:{port or apiserver.port}",
                            "certificate-authority": str(apiserver.ca_file),
                        },
                    }
                ],
                "users": [{"name": "reader", "user": {"token": token}}],
                # the context the dev stack names (kubernetes.context)
                "contexts": [{"name": "flow-dev", "context": {"cluster": "it", "user": "reader"}}],
                "current-context": "flow-dev",
            }
        )
    )
    return path


def _stack_file(tmp_path: Path, monitoring: dict[str, Any] | None = None) -> Path:
    """Pulumi.dev.yaml with flink and hyperflow in the test's namespaces (and a monitoring block)."""
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    config = document["config"]
    config["flow-platform:flink"]["namespace"] = "flink-nfr"
    config["flow-platform:hyperflow"]["namespace"] = "hyperflow-nfr"
    config.pop("flow-platform:monitoring", None)  # the committed block's targets and URL are not the test's
    if monitoring is not None:
        config["flow-platform:monitoring"] = monitoring
    path = tmp_path / "Pulumi.nfr.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.fixture(autouse=True)
def stand_in_systems(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(monitoring_config, "nfr_systems", lambda: ["flink", "hyperflow"])


def _nfr(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["nfr", *argv, "--project-dir", str(ROOT)])
    return code, out.getvalue(), err.getvalue()


# --- the tests -----------------------------------------------------------------------------------


def test_both_nfrs_per_namespace_as_json_and_exit_1_when_a_target_is_missed(
    pods: None, apiserver: ApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flow_platform_stacks.tooling import nfr

    monkeypatch.setattr(nfr, "PAGE", 1)  # one pod per list call: the continue token is followed
    kubeconfig = _kubeconfig(tmp_path / "kubeconfig", apiserver, ADMIN_TOKEN)
    with prometheus("two-namespaces.json") as url:
        code, out, err = _nfr(
            str(_stack_file(tmp_path)), "--kubeconfig", str(kubeconfig), "--prometheus-url", url, "--json"
        )
    assert code == 1, err
    report = json.loads(out)
    assert report["met"] is False and report["ulimitThreshold"] == 65536
    flink, hyperflow = report["namespaces"]
    assert flink["namespace"] == "flink-nfr"
    assert flink["podRestarts"] == {
        "containerRestarts": 3,
        "failedPods": 1,
        "total": 4,
        "pods": 3,
        "target": {"max": 0},
        "met": False,
        "byPod": [
            {"pod": "tm-1", "restarts": 3, "failed": False},
            {"pod": "tm-2", "restarts": 0, "failed": True},
        ],
    }
    assert flink["workloadsMeetingUlimit"] == {
        "percent": 50.0,
        "workloads": 2,
        "target": {"minPercent": 100.0},
        "met": False,
        "failing": ["Deployment/analytics-taskmanager"],
    }
    assert hyperflow["podRestarts"]["total"] == 0 and hyperflow["podRestarts"]["met"] is True
    assert (
        hyperflow["workloadsMeetingUlimit"]["percent"] == 100.0 and hyperflow["workloadsMeetingUlimit"]["met"]
    )


def test_the_table_and_the_targets_from_the_monitoring_block(
    pods: None, apiserver: ApiServer, tmp_path: Path
) -> None:
    kubeconfig = _kubeconfig(tmp_path / "kubeconfig", apiserver, ADMIN_TOKEN)
    with prometheus("two-namespaces.json") as url:
        block = {"prometheusUrl": url, "targets": {"maxRestarts": 4, "minUlimitPercent": 50}}
        code, out, err = _nfr(str(_stack_file(tmp_path, block)), "--kubeconfig", str(kubeconfig))
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0].split() == [
        "NAMESPACE",
        "RESTARTS",
        "FAILED",
        "PODS",
        "POD",
        "RESTARTS",
        "(max",
        "4)",
        "WORKLOADS",
        "MEETING",
        "NOFILE",
        ">=",
        "65536",
        "(min",
        "50",
        "%)",
    ]
    assert lines[1].split() == ["flink-nfr", "3", "1", "4", "ok", "2", "50.0", "%", "ok"]
    assert lines[2].split() == ["hyperflow-nfr", "0", "0", "0", "ok", "2", "100.0", "%", "ok"]
    assert "  flink-nfr/pod/tm-2: Failed" in lines
    assert lines[-1] == "stack 'nfr': every NFR met"


def test_the_reader_role_is_enough_and_needed(
    pods: None, kube: Client, apiserver: ApiServer, tmp_path: Path
) -> None:
    """The NfrRules Role, bound to a service account, lets it read; without the binding it is refused."""
    kube.must(
        "sa",
        kube.create(
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "nfr-ci", "namespace": "flink-nfr"},
            }
        ),
    )
    token = kube.must(
        "token",
        kube.request(
            "POST",
            "/api/v1/namespaces/flink-nfr/serviceaccounts/nfr-ci/token",
            {
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "spec": {"expirationSeconds": 3600},
            },
        ),
    ).body["status"]["token"]
    kubeconfig = _kubeconfig(tmp_path / "kubeconfig", apiserver, token)
    with prometheus("two-namespaces.json") as url:
        code, _, err = _nfr(
            str(_stack_file(tmp_path)), "--kubeconfig", str(kubeconfig), "--prometheus-url", url
        )
        assert code == 2
        assert "refused to list pods in flink-nfr (HTTP 403)" in err and "flow-platform-nfr-reader" in err
        assert "Traceback" not in err

        def program() -> None:
            NfrRules(
                "nfr",
                {
                    "namespace": "flink-nfr",
                    "env": "dev",
                    "namespaces": list(NAMESPACES),
                    "readers": [{"kind": "ServiceAccount", "name": "nfr-ci", "namespace": "flink-nfr"}],  # type: ignore[typeddict-item]
                },
            )

        for obj in kubernetes_objects(run_program("lib", {}, [], program=program)):
            if obj["kind"] in ("Role", "RoleBinding"):
                kube.must(f"{obj['kind']} {obj['metadata']['namespace']}", kube.create(obj))
        code, out, err = _nfr(
            str(_stack_file(tmp_path)), "--kubeconfig", str(kubeconfig), "--prometheus-url", url
        )
    assert code == 1, err
    assert out.splitlines()[1].split()[:5] == ["flink-nfr", "3", "1", "4", "MISSED"]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("prometheus down", "cannot reach Prometheus at http://127.0.0.1:"),
        ("no cadvisor", 'has no container_ulimits_soft{ulimit="max_open_files"} (kubelet cAdvisor) series'),
        ("apiserver down", "cannot reach the Kubernetes API at https://127.0.0.1:"),
        ("no prometheus url", "set monitoring.prometheusUrl in the stack file or pass --prometheus-url"),
        ("unknown context", "cannot use the kubeconfig"),
    ],
)
def test_what_cannot_be_measured_is_a_clear_error_never_a_traceback(
    pods: None, apiserver: ApiServer, tmp_path: Path, case: str, message: str
) -> None:
    port = free_port() if case == "apiserver down" else None
    kubeconfig = _kubeconfig(tmp_path / "kubeconfig", apiserver, ADMIN_TOKEN, port)
    argv = [str(_stack_file(tmp_path)), "--kubeconfig", str(kubeconfig)]
    if case == "unknown context":
        argv += ["--context", "nope"]
    with prometheus("no-cadvisor.json" if case == "no cadvisor" else "two-namespaces.json") as url:
        if case == "prometheus down":
            url = f"http://127.0.0.1:{free_port()}"
        if case != "no prometheus url":
            argv += ["--prometheus-url", url]
        code, out, err = _nfr(*argv)
    assert code == 2, out + err
    assert message in err
    assert "Traceback" not in err and "internal error" not in err
    assert err.startswith("flow-platform: ")


def test_the_api_server_accepts_the_rule_and_the_reader_group_may_only_read_pods(kube: Client) -> None:
    """prometheus-operator v0.93.0's CRD served for real (structural schema, list-map keys, patterns);
    a SubjectAccessReview of the default reader group: pods get/list in each namespace, nothing else."""
    from .cluster import install_crds

    crd = yaml.safe_load(
        (
            DATA / "crds" / "prometheus-operator-v0.93.0" / "monitoring.coreos.com_prometheusrules.yaml"
        ).read_text()
    )
    install_crds(kube, [crd])
    namespaces = ["rules-a", "rules-b"]
    for namespace in namespaces:
        kube.must(
            namespace, kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        )

    def program() -> None:
        NfrRules("nfr", {"namespace": "rules-a", "env": "dev", "namespaces": namespaces})

    objects = kubernetes_objects(run_program("lib", {}, [], program=program))
    for obj in objects:
        response = kube.create(obj)
        kube.must(f"{obj['kind']} {obj['metadata']['namespace']}", response)
    [rule] = [o for o in objects if o["kind"] == "PrometheusRule"]
    stored = kube.must("rule", kube.get(rule)).body
    assert stored["spec"] == rule["spec"], "the API server pruned or changed fields"
    broken = {**rule, "metadata": {**rule["metadata"], "name": "broken"}}
    broken["spec"] = {"groups": [{"name": "g", "rules": [{"record": "x", "expr": "1", "for": "5 minutes"}]}]}
    assert kube.create(broken).status == 422, "the CRD's duration pattern is enforced"

    group = ["flow-platform-nfr-readers"]
    for namespace in namespaces:
        assert kube.can("someone", group, "list", "pods", namespace)
        assert kube.can("someone", group, "get", "pods", namespace)
        for verb, resource, subresource in (
            ("create", "pods", "exec"),
            ("get", "pods", "log"),
            ("delete", "pods", ""),
            ("watch", "pods", ""),
            ("get", "secrets", ""),
            ("list", "configmaps", ""),
        ):
            assert not kube.can("someone", group, verb, resource, namespace, subresource=subresource), (
                verb,
                resource,
                subresource,
            )
    assert not kube.can("someone", group, "list", "pods", "default")
    assert not kube.can("someone", group, "list", "pods")  # cluster-wide
