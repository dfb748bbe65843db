"""Shared Kubernetes building blocks: labels, security contexts, resources, network policy, namespaces.

Import from here rather than from the submodules; everything a system component needs to be
consistent with the rest of flow-platform is re-exported.
"""

from ..validation import QUANTITY_HELP
from .labels import namespace_labels, selector_labels, standard_labels
from .namespace_guardrails import NamespaceGuardrails, NamespaceGuardrailsArgs, PodSecurityLevel
from .network import (
    api_server_egress_spec,
    cidr_peer,
    cidr_peers,
    default_deny_spec,
    dns_egress_spec,
    egress_spec,
    endpoint_egress_spec,
    ingress_spec,
    namespace_peer,
    network_policies,
    network_policy,
    pod_peer,
    ports,
)
from .quantity import GIB, MIB, Quantity, QuantityError, mebibytes, parse_quantity
from .rbac import service_account_with_role
from .resources import (
    admitted_container_resources,
    api_server_limit_range_item,
    container_resources,
    limit_range_spec,
    resource_quota_spec,
)
from .rollout import checksum_annotations, content_checksum, rollout_budget_seconds, rollout_timeouts
from .security import PSA_LEVELS, restricted_container_security_context, restricted_pod_security_context
from .workload import (
    component_depends_on,
    pod_disruption_budget,
    priority_class,
    spread_across_zones_and_nodes,
)

__all__ = [
    "GIB",
    "MIB",
    "PSA_LEVELS",
    "QUANTITY_HELP",
    "NamespaceGuardrails",
    "NamespaceGuardrailsArgs",
    "PodSecurityLevel",
    "Quantity",
    "QuantityError",
    "admitted_container_resources",
    "api_server_egress_spec",
    "api_server_limit_range_item",
    "checksum_annotations",
    "cidr_peer",
    "cidr_peers",
    "component_depends_on",
    "container_resources",
    "content_checksum",
    "default_deny_spec",
    "dns_egress_spec",
    "egress_spec",
    "endpoint_egress_spec",
    "ingress_spec",
    "limit_range_spec",
    "mebibytes",
    "namespace_labels",
    "namespace_peer",
    "network_policies",
    "network_policy",
    "parse_quantity",
    "pod_disruption_budget",
    "pod_peer",
    "ports",
    "priority_class",
    "resource_quota_spec",
    "restricted_container_security_context",
    "restricted_pod_security_context",
    "rollout_budget_seconds",
    "rollout_timeouts",
    "selector_labels",
    "service_account_with_role",
    "spread_across_zones_and_nodes",
    "standard_labels",
]
