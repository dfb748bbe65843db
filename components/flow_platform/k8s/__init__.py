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
    default_deny_spec,
    dns_egress_spec,
    egress_spec,
    ingress_spec,
    namespace_peer,
    network_policy,
    pod_peer,
    ports,
)
from .quantity import GIB, MIB, Quantity, QuantityError, mebibytes, parse_quantity
from .rbac import service_account_with_role
from .resources import container_resources, limit_range_spec, resource_quota_spec
from .security import PSA_LEVELS, restricted_container_security_context, restricted_pod_security_context

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
    "api_server_egress_spec",
    "cidr_peer",
    "container_resources",
    "default_deny_spec",
    "dns_egress_spec",
    "egress_spec",
    "ingress_spec",
    "limit_range_spec",
    "mebibytes",
    "namespace_labels",
    "namespace_peer",
    "network_policy",
    "parse_quantity",
    "pod_peer",
    "ports",
    "resource_quota_spec",
    "restricted_container_security_context",
    "restricted_pod_security_context",
    "selector_labels",
    "service_account_with_role",
    "standard_labels",
]
