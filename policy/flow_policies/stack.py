"""Stack policies: guardrails in every namespace, protection of stateful resources."""

from collections.abc import Mapping, Sequence
from typing import Any

from .cluster import PSA_ENFORCE
from .core import UNKNOWN, Resource, dig, items, mapping, message
from .pods import pod_specs
from .quantity import quantity

Config = Mapping[str, Any]
STATEFUL = (
    "aws:efs/fileSystem:FileSystem",
    "aws:efs/accessPoint:AccessPoint",
    "aws:ecr/repository:Repository",
    "kubernetes:core/v1:PersistentVolume",
    "kubernetes:core/v1:PersistentVolumeClaim",
)


def _default_deny(resource: Resource) -> bool:
    """A deny-all NetworkPolicy; one whose spec is unknown (preview) may be one."""
    spec = mapping(dig(resource.props, "spec"))
    values = [spec.get(k) for k in ("podSelector", "policyTypes", "ingress", "egress")]
    if spec is UNKNOWN or UNKNOWN in values or any(UNKNOWN in items(v) for v in values):
        return True
    return (
        spec.get("podSelector") in ({}, {"matchLabels": {}})
        and sorted(items(spec.get("policyTypes"))) == ["Egress", "Ingress"]
        and not items(spec.get("ingress"))
        and not items(spec.get("egress"))
    )


def namespace_guardrails(resources: Sequence[Resource], config: Config) -> list[tuple[str, str]]:
    """Every namespace has a LimitRange, a ResourceQuota, a PSA enforce label and a default deny."""
    out: list[tuple[str, str]] = []
    if any(dig(r.props, "metadata", "namespace") is UNKNOWN for r in resources):
        return out  # a resource whose namespace is unknown may hold what is missing
    by_namespace: dict[str | None, list[Resource]] = {}  # one pass, not one per namespace
    for r in resources:
        by_namespace.setdefault(r.namespace, []).append(r)
    for ns in (r for r in resources if r.type == "kubernetes:core/v1:Namespace"):
        name = ns.object_name
        inside = by_namespace.get(name, [])
        kinds = {r.type.rsplit(":", 1)[-1] for r in inside}
        missing = [k for k in ("LimitRange", "ResourceQuota") if k not in kinds]
        if not any(r.type.endswith(":NetworkPolicy") and _default_deny(r) for r in inside):
            missing.append("default-deny NetworkPolicy")
        labels = dig(ns.props, "metadata", "labels")
        if labels is not UNKNOWN and not (isinstance(labels, Mapping) and labels.get(PSA_ENFORCE)):
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


def namespace_limits(resources: Sequence[Resource], config: Config) -> list[tuple[str, str]]:
    """Every container a resource will run (custom resources' pods included) fits its namespace's
    LimitRange: the API server rejects operator-created pods that do not, long after the preview."""
    ranges: dict[str, list[tuple[str, str, Any]]] = {}
    for r in resources:
        if r.type != "kubernetes:core/v1:LimitRange" or r.namespace is None:
            continue
        for limit in items(dig(r.props, "spec", "limits")):
            if isinstance(limit, Mapping) and limit.get("type") == "Container":
                for bound in ("max", "min"):
                    for key, value in mapping(limit.get(bound)).items():
                        ranges.setdefault(r.namespace, []).append((bound, str(key), value))
    out = []
    for r in resources:
        bounds = ranges.get(r.namespace or "")
        if not bounds:
            continue
        for pod in pod_specs(r):
            for path, container in pod.containers(("initContainers", "containers")):
                res = mapping(mapping(container).get("resources"))
                for kind in ("requests", "limits"):
                    for bound, key, value in bounds:
                        have = quantity(mapping(res.get(kind)).get(key))
                        edge = quantity(value)
                        if have is None or edge is None:
                            continue
                        if (bound == "max" and have > edge) or (bound == "min" and have < edge):
                            out.append(
                                (
                                    r.urn,
                                    message(
                                        r,
                                        f"{path}.resources.{kind}.{key}",
                                        f"{mapping(res.get(kind)).get(key)} is"
                                        f" {'above' if bound == 'max' else 'below'}"
                                        f" the namespace's LimitRange {bound} {value}",
                                        "size the container within the namespace's LimitRange",
                                    ),
                                )
                            )
    return out
