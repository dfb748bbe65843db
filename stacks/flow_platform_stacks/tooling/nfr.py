"""``flow-platform nfr <stack>``: the two NFRs, read live, per measured namespace.

- Pod restarts: from the Kubernetes API (pods ``get, list``: the ``flow-platform-nfr-reader`` Role),
  the restart counters of every container and init container plus the pods in phase ``Failed``
  (Spark pods never restart, they fail).
- Workloads meeting the recommended ulimit: from the Prometheus HTTP API, the same PromQL the
  PrometheusRule records (:func:`flow_platform.monitoring.promql.ulimit_nfr_query`), so it works with
  or without the rule deployed.

Nothing is exec'd in pods and no privileged collector runs: both sources are read-only APIs.
"""

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flow_platform.monitoring import promql

API_TIMEOUT = (5.0, 30.0)
"""Connect and read timeouts of each Kubernetes API call (seconds)."""
PROMETHEUS_TIMEOUT = 30.0
PAGE = 500
"""Pods per list call (the API server pages; large namespaces stay cheap)."""


class NfrError(Exception):
    """The NFRs cannot be measured: a source cannot be reached, refuses, or lacks the metrics."""


@dataclass
class PodProblem:
    pod: str
    restarts: int
    failed: bool


@dataclass
class Restarts:
    container_restarts: int = 0
    failed_pods: int = 0
    pods: int = 0
    problems: list[PodProblem] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.container_restarts + self.failed_pods


@dataclass
class Ulimit:
    percent: float | None
    """None: Prometheus has no running container of this namespace (nothing to measure)."""
    workloads: int
    failing: list[str]
    """``Kind/name`` of the workloads with a container below the threshold."""


@dataclass
class NamespaceNfr:
    namespace: str
    restarts: Restarts
    ulimit: Ulimit
    max_restarts: int
    min_ulimit_percent: float

    @property
    def restarts_met(self) -> bool:
        return self.restarts.total <= self.max_restarts

    @property
    def ulimit_met(self) -> bool:
        return self.ulimit.percent is None or self.ulimit.percent >= self.min_ulimit_percent

    def as_json(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "podRestarts": {
                "containerRestarts": self.restarts.container_restarts,
                "failedPods": self.restarts.failed_pods,
                "total": self.restarts.total,
                "pods": self.restarts.pods,
                "target": {"max": self.max_restarts},
                "met": self.restarts_met,
                "byPod": [
                    {"pod": p.pod, "restarts": p.restarts, "failed": p.failed} for p in self.restarts.problems
                ],
            },
            "workloadsMeetingUlimit": {
                "percent": self.ulimit.percent,
                "workloads": self.ulimit.workloads,
                "target": {"minPercent": self.min_ulimit_percent},
                "met": self.ulimit_met,
                "failing": self.ulimit.failing,
            },
        }


# --- Kubernetes ----------------------------------------------------------------------------------


def kubernetes_client(kubeconfig: str | None, context: str | None) -> Any:
    """A CoreV1Api for the stack's cluster (the kubeconfig file, else $KUBECONFIG / ~/.kube/config)."""
    from kubernetes import client, config

    try:
        api_client = config.new_client_from_config(config_file=kubeconfig, context=context)  # type: ignore[no-untyped-call]
    except config.ConfigException as error:
        where = f" {kubeconfig}" if kubeconfig else " ($KUBECONFIG or ~/.kube/config)"
        raise NfrError(f"cannot use the kubeconfig{where}: {error}") from None
    except OSError as error:
        raise NfrError(f"cannot read the kubeconfig {kubeconfig}: {error.strerror or error}") from None
    api_client.configuration.retries = 1
    return client.CoreV1Api(api_client)


def read_restarts(api: Any, namespace: str) -> Restarts:
    """Restart counters (containers + init containers) and Failed pods of one namespace."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    result = Restarts()
    token: str | None = None
    host = getattr(getattr(api.api_client, "configuration", None), "host", "the API server")
    while True:
        try:
            page = api.list_namespaced_pod(
                namespace, limit=PAGE, _continue=token, _request_timeout=API_TIMEOUT
            )
        except ApiException as error:
            raise NfrError(_api_problem(error, namespace, host)) from None
        except HTTPError as error:
            raise NfrError(f"cannot reach the Kubernetes API at {host}: {_reason(error)}") from None
        for pod in page.items:
            status = pod.status
            restarts = sum(
                s.restart_count or 0
                for s in [*(status.container_statuses or []), *(status.init_container_statuses or [])]
            )
            failed = status.phase == "Failed"
            result.pods += 1
            result.container_restarts += restarts
            result.failed_pods += int(failed)
            if restarts or failed:
                result.problems.append(PodProblem(pod.metadata.name, restarts, failed))
        meta = page.metadata
        # the continue token: `_continue` in clients up to v36, `var_continue` from v37
        token = getattr(meta, "var_continue", None) or getattr(meta, "_continue", None)
        if not token:
            break
    result.problems.sort(key=lambda p: p.pod)
    return result


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    return str(reason or error).strip() or type(error).__name__


def _api_problem(error: Any, namespace: str, host: str) -> str:
    status = getattr(error, "status", None)
    if status in (401, 403):
        return (
            f"the Kubernetes API at {host} refused to list pods in {namespace} (HTTP {status}): the"
            " identity of this kubeconfig needs the flow-platform-nfr-reader Role there (monitoring.readers)"
        )
    return f"the Kubernetes API at {host} answered HTTP {status} listing pods in {namespace}: {error.reason}"


# --- Prometheus ----------------------------------------------------------------------------------


def prometheus_query(url: str, query: str) -> list[dict[str, Any]]:
    """An instant query's vector (``/api/v1/query``); every failure is an :class:`NfrError`."""
    endpoint = f"{url.rstrip('/')}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    try:
        with urllib.request.urlopen(endpoint, timeout=PROMETHEUS_TIMEOUT) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        body = error.read()
        detail = _prometheus_error(body) or error.reason
        raise NfrError(f"Prometheus at {url} answered HTTP {error.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as error:
        raise NfrError(f"cannot reach Prometheus at {url}: {_reason(error)}") from None
    try:
        answer = json.loads(body)
    except ValueError:
        raise NfrError(
            f"{url} did not answer as the Prometheus HTTP API (no JSON from /api/v1/query)"
        ) from None
    if not isinstance(answer, dict) or answer.get("status") != "success":
        detail = _prometheus_error(body) or "status is not success"
        raise NfrError(f"Prometheus at {url} could not run the query: {detail}")
    data = answer.get("data") or {}
    if data.get("resultType") != "vector" or not isinstance(data.get("result"), list):
        raise NfrError(f"Prometheus at {url} answered an instant query without a vector")
    result: list[dict[str, Any]] = data["result"]
    return result


def _prometheus_error(body: bytes) -> str | None:
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if isinstance(answer, dict) and answer.get("error"):
        return f"{answer.get('errorType', 'error')}: {answer['error']}"
    return None


def _value(sample: Mapping[str, Any]) -> float:
    value = float(sample["value"][1])
    return value


def ulimit_queries(namespaces: Sequence[str], threshold: int) -> dict[str, str]:
    """What :func:`read_ulimits` asks Prometheus, by purpose (the recorded responses are keyed on them)."""
    container = promql.container_nofile_expr(namespaces, threshold)
    workloads = promql.workload_nofile_expr(container, promql.pod_owners_expr(namespaces))
    return {
        "presence": promql.metric_presence_query(),
        "percent": promql.ulimit_nfr_expr(workloads),
        "workloads": f"count by (namespace) ({workloads})",
        "failing": f"{workloads} == 0",
    }


def read_ulimits(url: str, namespaces: Sequence[str], threshold: int) -> dict[str, Ulimit]:
    """The ulimit NFR per namespace; a clear error when Prometheus lacks the metrics it needs."""
    queries = ulimit_queries(namespaces, threshold)
    present = {s["metric"].get("metric") for s in prometheus_query(url, queries["presence"])}
    missing = [m for m in (promql.ULIMIT_METRIC, promql.OWNER_METRIC) if m not in present]
    if missing:
        sources = {
            promql.ULIMIT_METRIC: f'{promql.ULIMIT_METRIC}{{ulimit="{promql.NOFILE}"}} (kubelet cAdvisor)',
            promql.OWNER_METRIC: f"{promql.OWNER_METRIC} (kube-state-metrics)",
        }
        raise NfrError(
            f"Prometheus at {url} has no {' and no '.join(sources[m] for m in missing)} series: the ulimit"
            " NFR cannot be measured; check that they are scraped and not dropped by relabelling"
        )
    percent = {s["metric"].get("namespace"): _value(s) for s in prometheus_query(url, queries["percent"])}
    counts = {
        s["metric"].get("namespace"): int(_value(s)) for s in prometheus_query(url, queries["workloads"])
    }
    failing: dict[str, list[str]] = {}
    for sample in prometheus_query(url, queries["failing"]):
        labels = sample["metric"]
        failing.setdefault(labels.get("namespace"), []).append(
            f"{labels.get('owner_kind')}/{labels.get('owner_name')}"
        )
    result = {}
    for namespace in namespaces:
        value = percent.get(namespace)
        result[namespace] = Ulimit(
            None if value is None or math.isnan(value) else value,
            counts.get(namespace, 0),
            sorted(failing.get(namespace, [])),
        )
    return result


# --- both ----------------------------------------------------------------------------------------


def measure(
    api: Any,
    prometheus_url: str,
    namespaces: Sequence[str],
    threshold: int,
    max_restarts: int,
    min_ulimit_percent: float,
) -> list[NamespaceNfr]:
    ulimits = read_ulimits(prometheus_url, namespaces, threshold)
    return [
        NamespaceNfr(
            namespace, read_restarts(api, namespace), ulimits[namespace], max_restarts, min_ulimit_percent
        )
        for namespace in namespaces
    ]


def report_json(stack: str, threshold: int, results: Sequence[NamespaceNfr]) -> str:
    return json.dumps(
        {
            "stack": stack,
            "ulimitThreshold": threshold,
            "met": all(r.restarts_met and r.ulimit_met for r in results),
            "namespaces": [r.as_json() for r in results],
        },
        indent=2,
    )


def report_table(stack: str, threshold: int, results: Sequence[NamespaceNfr]) -> str:
    if not results:
        return f"stack '{stack}': no namespace measured"
    max_restarts, min_percent = results[0].max_restarts, results[0].min_ulimit_percent
    header = [
        "NAMESPACE",
        "RESTARTS",
        "FAILED PODS",
        f"POD RESTARTS (max {max_restarts})",
        "WORKLOADS",
        f"MEETING NOFILE >= {threshold} (min {min_percent:g} %)",
    ]
    rows = []
    for r in results:
        ulimit = "n/a: no running workloads" if r.ulimit.percent is None else f"{r.ulimit.percent:.1f} %"
        rows.append(
            [
                r.namespace,
                str(r.restarts.container_restarts),
                str(r.restarts.failed_pods),
                f"{r.restarts.total} {'ok' if r.restarts_met else 'MISSED'}",
                str(r.ulimit.workloads),
                f"{ulimit} {'ok' if r.ulimit_met else 'MISSED'}",
            ]
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    for r in results:
        for p in r.restarts.problems:
            what = ", ".join(
                [*([f"{p.restarts} restart(s)"] if p.restarts else []), *(["Failed"] if p.failed else [])]
            )
            lines.append(f"  {r.namespace}/pod/{p.pod}: {what}")
        for workload in r.ulimit.failing:
            lines.append(f"  {r.namespace}/{workload}: a container's soft nofile is below {threshold}")
    met = all(r.restarts_met and r.ulimit_met for r in results)
    lines.append(f"stack '{stack}': {'every NFR met' if met else 'NFR target missed'}")
    return "\n".join(lines)
