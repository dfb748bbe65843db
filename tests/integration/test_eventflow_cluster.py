"""EventFlowCluster against a real v1.32 API server: admitted under restricted Pod Security without a
warning, its node account may manage Services and read pods and nothing else (SubjectAccessReview),
and the quota the system computes leaves room for the Services nodes create at run time.
"""

import copy
from typing import Any

import pytest
from flow_platform.eventflow import EventFlowCluster, discovery_service_names, services_needed
from flow_platform.k8s import namespace_labels
from flow_platform_stacks.tooling.harness import run_program
from flow_platform_stacks.tooling.render import kubernetes_objects

from .apiserver import Client
from .cluster import Access, admission_problems, make_real, rbac_findings, response_problems, workload_pods

NAMESPACE = "eventflow-it"
ARGS: dict[str, Any] = {
    "namespace": NAMESPACE,
    "env": "dev",
    "app_name": "ef-orders",
    "image": "registry.example.com/streaming/ef-orders:1.0.0",
    "admin_username": "efadmin",
    "admin_password": "example-password-0123456789",
    "keystore_password": "keystore-password-0123",
    "configuration": {"node.conf": 'name = "ef-orders"\n'},
    "node_deploy": "node.conf",
    "health_credentials": True,
    "clients": [{"namespace": "trading-dev", "pod_labels": {"app": "gateway"}}],
    "monitor": {"image": "registry.example.com/streaming/sbrt-base:11.1.0", "ingress_host": "ef.example.com"},
    "api_server_cidrs": ["10.0.0.1/32"],
    "zone_spread": True,
}
SERVICE_VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")
ALL_VERBS = (*SERVICE_VERBS, "deletecollection")
OTHER_RESOURCES = (
    "/configmaps",
    "/secrets",
    "/endpoints",
    "/persistentvolumeclaims",
    "/serviceaccounts",
    "/events",
    "/services/proxy",
    "/services/status",
    "/pods/log",
    "/pods/exec",
    "/pods/eviction",
    "/pods/ephemeralcontainers",
    "apps/statefulsets",
    "apps/statefulsets/scale",
    "discovery.k8s.io/endpointslices",
    "networking.k8s.io/networkpolicies",
    "networking.k8s.io/ingresses",
    "policy/poddisruptionbudgets",
    "rbac.authorization.k8s.io/roles",
)


def _namespace(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": namespace_labels("dev", "eventflow", "restricted", "v1.32")},
    }


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    def program() -> None:
        EventFlowCluster("orders", ARGS)  # type: ignore[arg-type]

    return kubernetes_objects(run_program("lib", {}, [], program=program))


@pytest.fixture(scope="module")
def applied(kube: Client, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    namespace = _namespace(NAMESPACE)
    problems = admission_problems(kube, [namespace, *objects])
    assert problems == [], "\n".join(problems)
    make_real(kube, [namespace, *objects])
    return objects


def test_every_object_and_every_pod_is_admitted_under_restricted_without_a_warning(
    kube: Client, applied: list[dict[str, Any]]
) -> None:
    pods = workload_pods(applied)
    assert sorted(p["metadata"]["name"] for p in pods) == [
        "clustermonitor-0",
        "ef-orders-0",
        "ef-orders-1",
        "ef-orders-2",
    ]
    # Pod Security (enforce and warn: restricted) judges the pods themselves, too
    problems = [q for pod in pods for q in response_problems(pod, kube.create(pod, dry_run=True), set())]
    assert problems == [], "\n".join(problems)


def test_the_node_account_manages_services_reads_pods_and_nothing_else(
    kube: Client, applied: list[dict[str, Any]]
) -> None:
    needs: list[Access] = [(verb, "/services", NAMESPACE) for verb in SERVICE_VERBS]
    needs += [(verb, "/pods", NAMESPACE) for verb in ("get", "list", "watch")]
    for account in ("ef-orders-node", "clustermonitor"):
        assert rbac_findings(kube, NAMESPACE, account, needs, "kube-public") == []
        user = f"system:serviceaccount:{NAMESPACE}:{account}"
        groups = ["system:serviceaccounts", f"system:serviceaccounts:{NAMESPACE}", "system:authenticated"]
        allowed = []
        for target in OTHER_RESOURCES:
            group, _, rest = target.partition("/")
            resource, _, sub = rest.partition("/")
            allowed += [
                f"{v} {target}"
                for v in ALL_VERBS
                if kube.can(user, groups, v, resource, NAMESPACE, group, sub)
            ]
        allowed += [
            f"{verb} /pods"
            for verb in ("create", "update", "patch", "delete", "deletecollection")
            if kube.can(user, groups, verb, "pods", NAMESPACE, "", "")
        ]
        if kube.can(user, groups, "deletecollection", "services", NAMESPACE, "", ""):
            allowed.append("deletecollection /services")
        # Services elsewhere, and cluster-wide, are not its business
        allowed += [
            f"{v} /services in {ns or 'cluster scope'}"
            for v in SERVICE_VERBS
            for ns in ("kube-system", "default", "")
            if kube.can(user, groups, v, "services", ns or None, "", "")
        ]
        assert allowed == [], f"{account}: {allowed}"


def test_the_quota_leaves_room_for_each_nodes_discovery_service(kube: Client) -> None:
    """The system's quota (``services_needed``): the static Services plus one per node and monitor
    fit; one Service more is refused, so the figure is exact, not merely generous."""
    namespace = "eventflow-quota-it"
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "quota", "namespace": namespace},
        "spec": {"hard": {"services": str(services_needed(3, monitor=True))}},
    }
    make_real(kube, [_namespace(namespace), quota])

    def service(name: str) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8008}]},
        }

    names = ["ef-orders", "clustermonitor", *discovery_service_names("ef-orders", namespace, 3, monitor=True)]
    for name in names:
        kube.must(f"create Service {name}", kube.create(service(name)))
    extra = kube.create(service("one-too-many"))
    assert extra.status == 403 and "exceeded quota" in extra.message, extra.message


def test_a_name_the_check_allows_is_a_name_the_api_server_accepts(kube: Client) -> None:
    """The longest discovery name at the 63-character bound is a Service the API server admits."""
    app, namespace = "a" * 25, "efnames-it"
    # node 10: 25 + 2 digits + '-' + 'efnamesit' (9) + '-' + 25 = 63
    [*_, longest] = discovery_service_names(app, namespace, 11, monitor=False)
    assert len(longest) == 63
    kube.must("namespace", kube.apply(_namespace(namespace), dry_run=False))
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": longest, "namespace": namespace},
        "spec": {"ports": [{"port": 80}]},
    }
    assert kube.create(service, dry_run=True).ok
    too_long = copy.deepcopy(service)
    too_long["metadata"]["name"] = longest + "0"
    assert kube.create(too_long, dry_run=True).status == 422
