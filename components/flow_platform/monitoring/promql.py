"""The two NFRs as PromQL: one definition for the PrometheusRule and for ``flow-platform nfr``.

1. Pod restarts: every container restart (init containers too, from kube-state-metrics) plus every
   pod in phase ``Failed``. Spark drivers and executors run with ``restartPolicy: Never``: their
   restart counters stay 0 and a failure shows up only as a Failed pod.
2. Workloads meeting the recommended ulimit: the percentage of workloads (pod owners, from
   ``kube_pod_owner``) whose every running container has a soft ``nofile`` limit of at least the
   threshold, or unlimited (``-1``), as the kubelet's cAdvisor reports it for each container's root
   process (``container_ulimits_soft{ulimit="max_open_files"}``). A non-compliant container counts
   as 0 (``>= bool``), never as absent, so a namespace where nothing complies reads 0 %, not "no data".

No Pulumi here: plain strings and dicts, shared by the component
(``NfrRules``), the CLI and the tests (``promtool test rules``).
"""

from collections.abc import Sequence
from typing import Any

DEFAULT_ULIMIT_THRESHOLD = 65536
"""Soft ``nofile`` a workload must have: our choice, the soft limit EKS AL2023 and Bottlerocket nodes
give every container (hard 1048576). The seed names no number."""
DEFAULT_MAX_RESTARTS = 0
"""Restarts plus failed pods a namespace may show before the NFR is missed: our choice (none)."""
DEFAULT_MIN_ULIMIT_PERCENT = 100.0
"""Share of workloads that must meet the ulimit: our choice (all of them)."""
MAX_ULIMIT_THRESHOLD = 1 << 30
"""Linux caps ``nofile`` at ``fs.nr_open`` (at most 1073741816): a higher threshold never passes."""
UNLIMITED = -1
"""How cAdvisor reports an ``unlimited`` ulimit."""

RESTART_METRICS = (
    "kube_pod_container_status_restarts_total",
    "kube_pod_init_container_status_restarts_total",
)
FAILED_PHASE_METRIC = "kube_pod_status_phase"
OWNER_METRIC = "kube_pod_owner"
ULIMIT_METRIC = "container_ulimits_soft"
NOFILE = "max_open_files"
"""cAdvisor's name for RLIMIT_NOFILE in the ``ulimit`` label."""

# recorded series (level:metric:operations, Prometheus' naming convention)
RESTARTS = "namespace:flow_platform_container_restarts:sum"
FAILED_PODS = "namespace:flow_platform_failed_pods:sum"
RESTARTS_NFR = "namespace:flow_platform_nfr_pod_restarts:sum"
"""NFR 1 per namespace: container restarts + failed pods."""
CONTAINER_NOFILE = "namespace_pod_container:flow_platform_nofile_compliant:bool"
WORKLOAD_NOFILE = "namespace_workload:flow_platform_nofile_compliant:min"
ULIMIT_NFR = "namespace:flow_platform_nfr_workloads_meeting_ulimit:percent"
"""NFR 2 per namespace: 0-100."""

GROUP = "flow-platform-nfr"
ALERT_RESTARTS = "FlowPlatformPodRestarts"
ALERT_ULIMIT = "FlowPlatformWorkloadsBelowUlimit"
ALERT_WORKLOAD = "FlowPlatformWorkloadUlimitTooLow"
ALERT_METRICS_MISSING = "FlowPlatformNfrMetricsMissing"


def _matcher(namespaces: Sequence[str]) -> str:
    """``namespace=~"a|b"``: namespaces are DNS labels, so no regex escaping is needed."""
    if not namespaces:
        raise ValueError("at least one namespace is needed")
    return f'namespace=~"{"|".join(sorted(set(namespaces)))}"'


def _series(metric: str, namespaces: Sequence[str], *matchers: str) -> str:
    return f"{metric}{{{', '.join([_matcher(namespaces), *matchers])}}}"


def _restart_series(namespaces: Sequence[str]) -> str:
    """Both restart counters in one selector: no ``+`` that would drop a namespace lacking one."""
    return _series("", namespaces, f'__name__=~"{"|".join(RESTART_METRICS)}"')


def _failed_series(namespaces: Sequence[str]) -> str:
    return _series(FAILED_PHASE_METRIC, namespaces, 'phase="Failed"')


def restarts_expr(namespaces: Sequence[str]) -> str:
    return f"sum by (namespace) ({_restart_series(namespaces)})"


def failed_pods_expr(namespaces: Sequence[str]) -> str:
    return f"sum by (namespace) ({_failed_series(namespaces)})"


def restarts_nfr_expr(namespaces: Sequence[str]) -> str:
    """Restarts + failed pods per namespace.

    ``or`` (not ``+``) joins the two: a namespace with restarts but no phase series (or the reverse)
    still gets a value; the label sets never collide (phase series carry ``phase``, restart series
    ``container``).
    """
    return f"sum by (namespace) ({_restart_series(namespaces)} or {_failed_series(namespaces)})"


def container_nofile_expr(namespaces: Sequence[str], threshold: int) -> str:
    """1 where a container's soft nofile is >= ``threshold`` or unlimited, else 0 (never absent).

    ``container!=""`` drops the pod-level cgroup series; ``container!="POD"`` the pause container
    some runtimes report.
    """
    series = _series(ULIMIT_METRIC, namespaces, f'ulimit="{NOFILE}"', 'container!=""', 'container!="POD"')
    return f"({series} >= bool {threshold}) + ({series} == bool {UNLIMITED})"


def pod_owners_expr(namespaces: Sequence[str]) -> str:
    """One owner per pod (``namespace, pod, owner_kind, owner_name``): the workload it belongs to.

    The controller owner where there is one; a pod without owners (``<none>``) is its own workload
    (kind ``Pod``); a pod with only non-controller owners takes one of them. ``max by`` drops
    kube-state-metrics' own labels, so a second scrape of it does not duplicate pods.
    """
    controller = _series(OWNER_METRIC, namespaces, 'owner_is_controller="true"')
    bare = _series(OWNER_METRIC, namespaces, 'owner_kind="<none>"')
    bare = f'label_replace({bare}, "owner_name", "$1", "pod", "(.+)")'
    bare = f'label_replace({bare}, "owner_kind", "Pod", "", "")'
    other = _series(OWNER_METRIC, namespaces, 'owner_is_controller="false"')
    other = f"topk by (namespace, pod) (1, {other})"
    return (
        "max by (namespace, pod, owner_kind, owner_name) "
        f"({controller} or on (namespace, pod) {bare} or on (namespace, pod) {other})"
    )


def workload_nofile_expr(container_compliance: str, owners: str) -> str:
    """Per workload: 1 only when every container of every running pod of it complies (``min``)."""
    return (
        "min by (namespace, owner_kind, owner_name) "
        f"(({container_compliance}) * on (namespace, pod) group_left (owner_kind, owner_name) {owners})"
    )


def ulimit_nfr_expr(workload_compliance: str) -> str:
    return f"100 * avg by (namespace) ({workload_compliance})"


def ulimit_nfr_query(namespaces: Sequence[str], threshold: int) -> str:
    """NFR 2 without the recording rules (what ``flow-platform nfr`` asks Prometheus)."""
    return ulimit_nfr_expr(
        workload_nofile_expr(container_nofile_expr(namespaces, threshold), pod_owners_expr(namespaces))
    )


def metric_presence_query() -> str:
    """One sample per NFR input metric Prometheus has at all (cluster-wide): what is missing, if any."""
    parts = [
        f'label_replace(count({ULIMIT_METRIC}{{ulimit="{NOFILE}"}}), "metric", "{ULIMIT_METRIC}", "", "")',
        f'label_replace(count({OWNER_METRIC}), "metric", "{OWNER_METRIC}", "", "")',
    ]
    return " or ".join(parts)


def rule_groups(
    namespaces: Sequence[str],
    ulimit_threshold: int = DEFAULT_ULIMIT_THRESHOLD,
    max_restarts: int = DEFAULT_MAX_RESTARTS,
    min_ulimit_percent: float = DEFAULT_MIN_ULIMIT_PERCENT,
) -> list[dict[str, Any]]:
    """The rule groups (``spec.groups`` of a PrometheusRule, and a Prometheus rule file's ``groups``)."""
    target = f"{min_ulimit_percent:g}"
    records = [
        {"record": RESTARTS, "expr": restarts_expr(namespaces)},
        {"record": FAILED_PODS, "expr": failed_pods_expr(namespaces)},
        {"record": RESTARTS_NFR, "expr": restarts_nfr_expr(namespaces)},
        {"record": CONTAINER_NOFILE, "expr": container_nofile_expr(namespaces, ulimit_threshold)},
        {
            "record": WORKLOAD_NOFILE,
            "expr": workload_nofile_expr(CONTAINER_NOFILE, pod_owners_expr(namespaces)),
        },
        {"record": ULIMIT_NFR, "expr": ulimit_nfr_expr(WORKLOAD_NOFILE)},
    ]
    alerts = [
        {
            "alert": ALERT_RESTARTS,
            "expr": f"{RESTARTS_NFR} > {max_restarts}",
            "for": "5m",
            "labels": {"severity": "warning", "nfr": "pod-restarts"},
            "annotations": {
                "summary": "Pod restarts NFR missed",
                "description": (
                    "{{ $labels.namespace }}: {{ $value }} container restarts plus failed pods"
                    f" (target: at most {max_restarts}). `flow-platform nfr <stack>` lists them per pod."
                ),
            },
        },
        {
            "alert": ALERT_ULIMIT,
            "expr": f"{ULIMIT_NFR} < {target}",
            "for": "15m",
            "labels": {"severity": "warning", "nfr": "ulimit"},
            "annotations": {
                "summary": "Workloads meeting the recommended ulimit NFR missed",
                "description": (
                    "{{ $labels.namespace }}: {{ $value | humanize }} % of workloads have a soft nofile"
                    f" limit of at least {ulimit_threshold} in every container (target: {target} %)."
                ),
            },
        },
        {
            "alert": ALERT_WORKLOAD,
            "expr": f"{WORKLOAD_NOFILE} == 0",
            "for": "15m",
            "labels": {"severity": "info", "nfr": "ulimit"},
            "annotations": {
                "summary": "A workload runs with a soft nofile limit below the recommended one",
                "description": (
                    "{{ $labels.namespace }}/{{ $labels.owner_kind }}/{{ $labels.owner_name }}: a container"
                    f" has a soft nofile limit below {ulimit_threshold}. The node sets it (containerd's"
                    " base runtime spec); see the README, NFRs."
                ),
            },
        },
        {
            "alert": ALERT_METRICS_MISSING,
            "expr": " or ".join(
                f'label_replace(absent({selector}), "metric", "{metric}", "", "")'
                for metric, selector in (
                    (ULIMIT_METRIC, f'{ULIMIT_METRIC}{{ulimit="{NOFILE}"}}'),
                    (OWNER_METRIC, OWNER_METRIC),
                )
            ),
            "for": "30m",
            "labels": {"severity": "warning", "nfr": "ulimit"},
            "annotations": {
                "summary": "The ulimit NFR cannot be measured",
                "description": (
                    "Prometheus has no {{ $labels.metric }} series (container_ulimits_soft comes from the"
                    " kubelet's cAdvisor, kube_pod_owner from kube-state-metrics): check their scrape"
                    " configuration and relabelling."
                ),
            },
        },
    ]
    return [{"name": GROUP, "rules": [*records, *alerts]}]


def reader_role_rules() -> list[dict[str, Any]]:
    """What ``flow-platform nfr`` reads from the API: pods (status holds restarts and phase)."""
    return [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]
