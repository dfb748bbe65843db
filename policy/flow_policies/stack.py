"""Stack policies: guardrails in every namespace, protection of stateful resources."""

from collections.abc import Mapping, Sequence
from typing import Any

from .cluster import PSA_ENFORCE
from .core import Resource, dig

Config = Mapping[str, Any]
STATEFUL = (
    "aws:efs/fileSystem:FileSystem",
    "aws:efs/accessPoint:AccessPoint",
    "aws:ecr/repository:Repository",
    "kubernetes:core/v1:PersistentVolume",
    "kubernetes:core/v1:PersistentVolumeClaim",
)


def _default_deny(resource: Resource) -> bool:
    spec = dig(resource.props, "spec") or {}
    return (
        spec.get("podSelector") in ({}, {"matchLabels": {}})
        and sorted(spec.get("policyTypes") or []) == ["Egress", "Ingress"]
        and not spec.get("ingress")
        and not spec.get("egress")
    )


def namespace_guardrails(resources: Sequence[Resource], config: Config) -> list[tuple[str, str]]:
    """Every namespace has a LimitRange, a ResourceQuota, a PSA enforce label and a default deny."""
    out = []
    for ns in (r for r in resources if r.type == "kubernetes:core/v1:Namespace"):
        name = ns.object_name
        inside = [r for r in resources if r.namespace == name]
        kinds = {r.type.rsplit(":", 1)[-1] for r in inside}
        missing = [k for k in ("LimitRange", "ResourceQuota") if k not in kinds]
        if not any(r.type.endswith(":NetworkPolicy") and _default_deny(r) for r in inside):
            missing.append("default-deny NetworkPolicy")
        labels = dig(ns.props, "metadata", "labels")
        if not (isinstance(labels, Mapping) and labels.get(PSA_ENFORCE)):
            missing.append("Pod Security Admission enforce label")
        if missing:
            out.append(
                (
                    ns.urn,
                    f"Namespace {name}: missing {', '.join(missing)}; fix: add the guardrails"
                    " (flow_platform.k8s.NamespaceGuardrails creates all four)",
                )
            )
    return out


def stateful_protected(resources: Sequence[Resource], config: Config) -> list[tuple[str, str]]:
    """Where required (prd), file systems, access points, volumes, claims and repositories are protected."""
    if not config.get("requireProtect"):
        return []
    return [
        (
            r.urn,
            f"{r.label()}: options.protect: a stateful resource is not protected;"
            " fix: set protect (flow-platform:protect: true)",
        )
        for r in resources
        if r.type in STATEFUL and not r.options.get("protect")
    ]
