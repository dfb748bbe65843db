"""Policy rules as pure functions over a resource's type and properties.

Each rule returns the violations it finds as messages naming the field path and the fix; the
pack in ``__main__.py`` only adapts them to CrossGuard. The full policy set arrives with the
policy-pack issue; these are the guardrails the foundation already relies on.
"""

from collections.abc import Mapping
from typing import Any

PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
PSA_LEVELS = ("restricted", "baseline", "privileged")


def _metadata(props: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = props.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def no_default_namespace(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Namespaced Kubernetes objects must name a namespace other than ``default``."""
    if not resource_type.startswith("kubernetes:") or resource_type.endswith(":Namespace"):
        return []
    namespace = _metadata(props).get("namespace")
    if namespace == "default":
        return ["metadata.namespace is 'default': deploy into the system's own namespace (<system>-<env>)"]
    return []


def namespace_has_pod_security(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Every Namespace carries a Pod Security Admission enforce label with a valid level."""
    if resource_type != "kubernetes:core/v1:Namespace":
        return []
    labels = _metadata(props).get("labels")
    level = labels.get(PSA_ENFORCE) if isinstance(labels, Mapping) else None
    if level is None:
        return [
            f"metadata.labels['{PSA_ENFORCE}'] is missing: set it to 'restricted' (or a documented exception)"
        ]
    if level not in PSA_LEVELS:
        return [f"metadata.labels['{PSA_ENFORCE}'] is {level!r}: use one of {', '.join(PSA_LEVELS)}"]
    return []
