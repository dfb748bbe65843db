"""NetworkPolicy specs: a default deny plus the exact allow rules a workload needs.

Each namespace starts closed in both directions (:func:`default_deny_spec`); components add
allow policies built from these functions, so every open flow is named in code and reviewable.
"""

from collections.abc import Callable, Mapping
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from .. import validation as v

Protocol = Literal["TCP", "UDP", "SCTP"]

DNS_NAMESPACE = "kube-system"
DNS_POD_LABELS = {"k8s-app": "kube-dns"}


def default_deny_spec() -> dict[str, Any]:
    """Select every pod, allow nothing: ingress and egress must be opened explicitly."""
    return {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def ports(*numbers: int, protocol: Protocol = "TCP") -> list[dict[str, Any]]:
    return [{"port": number, "protocol": protocol} for number in numbers]


def pod_peer(labels: dict[str, str], namespace: pulumi.Input[str] | None = None) -> dict[str, Any]:
    """Pods with ``labels``; in ``namespace`` when given, else in the policy's own namespace."""
    peer: dict[str, Any] = {"podSelector": {"matchLabels": dict(sorted(labels.items()))}}
    if namespace is not None:
        peer["namespaceSelector"] = {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
    return peer


def namespace_peer(namespace: pulumi.Input[str]) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}


def cidr_peer(cidr: str) -> dict[str, Any]:
    return {"ipBlock": {"cidr": cidr}}


def cidr_peers(cidrs: list[str]) -> list[dict[str, Any]]:
    """One peer a CIDR block, sorted: the spec does not change with the config's order."""
    return [cidr_peer(c) for c in sorted(cidrs)]


def _one_rule_spec(
    direction: Literal["Ingress", "Egress"],
    pod_selector: dict[str, str],
    peers: list[dict[str, Any]],
    port_list: list[dict[str, Any]],
) -> dict[str, Any]:
    peer_key = "from" if direction == "Ingress" else "to"
    return {
        "podSelector": {"matchLabels": dict(sorted(pod_selector.items()))},
        "policyTypes": [direction],
        direction.lower(): [{peer_key: peers, "ports": port_list}],
    }


def egress_spec(
    pod_selector: dict[str, str],
    peers: list[dict[str, Any]],
    port_list: list[dict[str, Any]],
) -> dict[str, Any]:
    """Egress from the selected pods to ``peers`` on exactly ``port_list``."""
    return _one_rule_spec("Egress", pod_selector, peers, port_list)


def ingress_spec(
    pod_selector: dict[str, str],
    peers: list[dict[str, Any]],
    port_list: list[dict[str, Any]],
) -> dict[str, Any]:
    """Ingress to the selected pods from ``peers`` on exactly ``port_list``."""
    return _one_rule_spec("Ingress", pod_selector, peers, port_list)


def dns_egress_spec(pod_selector: dict[str, str] | None = None) -> dict[str, Any]:
    """Egress to the cluster DNS (kube-dns/CoreDNS pods in kube-system) on 53 UDP and TCP."""
    return egress_spec(
        pod_selector or {},
        [pod_peer(DNS_POD_LABELS, DNS_NAMESPACE)],
        ports(53, protocol="UDP") + ports(53, protocol="TCP"),
    )


def api_server_egress_spec(pod_selector: dict[str, str], cidrs: list[str], port: int) -> dict[str, Any]:
    """Egress to the Kubernetes API server, for workloads that create pods or jobs.

    The address comes from config: on EKS the API server endpoints are ENIs in the VPC, which a
    podSelector cannot match, so an ipBlock is the only precise rule.
    """
    return egress_spec(pod_selector, cidr_peers(cidrs), ports(port))


ENDPOINT_CHECKS: dict[str, Callable[[Any], Any]] = {
    "name": v.dns_label,
    "cidrs": v.list_of(v.cidr, min_length=1),
    "ports": v.list_of(v.port, min_length=1),
}
"""Checks of a named endpoint's args (``name``, ``cidrs``, ``ports``: a component's TypedDict of
those three, such as ``ExternalEndpoint`` or ``DataEndpoint``)."""


PEER_CHECKS: dict[str, Callable[[Any], Any]] = {"namespace": v.namespace_name, "labels": v.labels}
"""Checks of a peer's args (``namespace``, ``labels``: pods in another namespace a rule admits or
reaches, such as ``UiClients`` or ``LicenseServerPeer``)."""


def endpoint_egress_spec(pod_selector: dict[str, str], endpoint: Mapping[str, Any]) -> dict[str, Any]:
    """Egress from the selected pods to a named endpoint: its CIDR blocks, on its TCP ports."""
    return egress_spec(pod_selector, cidr_peers(endpoint["cidrs"]), ports(*endpoint["ports"]))


def network_policy(
    resource_name: str,
    namespace: pulumi.Input[str],
    policy_name: str,
    spec: dict[str, Any],
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> "k8s.networking.v1.NetworkPolicy":
    """Register one NetworkPolicy; thin on purpose, the decision is in ``spec``."""
    metadata: k8s.meta.v1.ObjectMetaArgsDict = {"name": policy_name, "namespace": namespace, "labels": labels}
    # the spec is Kubernetes-shaped (camelCase) data, which the SDK passes through unchanged
    typed_spec: Any = spec
    return k8s.networking.v1.NetworkPolicy(resource_name, metadata=metadata, spec=typed_spec, opts=opts)


def network_policies(
    name: str,
    namespace: pulumi.Input[str],
    specs: dict[str, dict[str, Any]],
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
    prefix: str = "",
) -> None:
    """One NetworkPolicy a spec, by policy name, each the child ``<name>-<policy name less
    prefix>`` (stable names: renaming one replaces the policy)."""
    for policy_name, spec in specs.items():
        child_name = f"{name}-{policy_name.removeprefix(prefix)}"
        network_policy(child_name, namespace, policy_name, spec, labels, opts)
