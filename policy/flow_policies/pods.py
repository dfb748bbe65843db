"""Every pod a resource will run: built-in workload kinds (and their ``*Patch`` variants), pod
templates, and the pods that operators create from custom resources (Flink, Spark).

For a custom resource the pod is assembled the way its operator builds it, so image, resource and
security rules judge what will run: FlinkDeployment (operator 1.15: ``spec.podTemplate`` merged with
``spec.<role>.podTemplate``, main container ``flink-main-container`` with ``spec.image`` and
``spec.<role>.resource``) and SparkApplication (spark-operator 2.5 ``v1beta2``: ``spec.<role>.template``
overlaid with the role's image, security contexts, host network, cores and memory).
"""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .core import UNKNOWN, Resource, dig, items, type_parts

# (API group, kind) -> path of the pod spec; the version does not matter (v1beta* kinds included)
POD_SPEC_PATHS: dict[tuple[str, str], tuple[str, ...]] = {
    ("core", "Pod"): ("spec",),
    ("core", "PodTemplate"): ("template", "spec"),
    ("core", "ReplicationController"): ("spec", "template", "spec"),
    ("apps", "Deployment"): ("spec", "template", "spec"),
    ("apps", "StatefulSet"): ("spec", "template", "spec"),
    ("apps", "DaemonSet"): ("spec", "template", "spec"),
    ("apps", "ReplicaSet"): ("spec", "template", "spec"),
    ("extensions", "Deployment"): ("spec", "template", "spec"),
    ("extensions", "DaemonSet"): ("spec", "template", "spec"),
    ("extensions", "ReplicaSet"): ("spec", "template", "spec"),
    ("batch", "Job"): ("spec", "template", "spec"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template", "spec"),
}
LONG_RUNNING_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"}
FLINK_GROUP, SPARK_GROUP = "flink.apache.org", "sparkoperator.k8s.io"
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


@dataclass(frozen=True)
class PodSpec:
    """One pod a resource runs, with the field path it sits at.

    ``partial``: a ``*Patch`` resource, where an absent field means "unchanged", not "unset".
    ``managed_cpu_limit``: the operator sets the CPU limit itself (Flink), so it is not ours to judge.
    """

    path: str
    spec: Any
    metadata: Any = field(default_factory=dict)
    partial: bool = False
    named: bool = False  # container paths by name (assembled pods) rather than index
    managed_cpu_limit: bool = False

    def containers(self, lists: tuple[str, ...] = CONTAINER_LISTS) -> Iterator[tuple[str, Any]]:
        for key in lists:
            for i, container in enumerate(items(dig(self.spec, key))):
                if isinstance(container, Mapping) or container is UNKNOWN:
                    name = container.get("name") if isinstance(container, Mapping) else None
                    where = f"[{name}]" if self.named and isinstance(name, str) else f"[{i}]"
                    yield f"{self.path}.{key}{where}", container

    def missing(self, value: Any) -> bool:
        """Certainly unset: None in a full object (a patch leaves absent fields as they are)."""
        return value is None and not self.partial


def pod_specs(resource: Resource) -> list[PodSpec]:
    """The pods a resource carries; an unknown pod spec is skipped whole."""
    group, kind, patch = type_parts(resource.type)
    path = POD_SPEC_PATHS.get((group, kind))
    if path is not None:
        spec = dig(resource.props, *path)
        metadata = (
            dig(resource.props, *path[:-1], "metadata") if len(path) > 1 else resource.props.get("metadata")
        )
        if isinstance(spec, Mapping):
            return [PodSpec(".".join(path), spec, metadata or {}, partial=patch)]
        return []
    if group == FLINK_GROUP and kind == "FlinkDeployment":
        return _flink_pods(resource, patch)
    if group == SPARK_GROUP and kind in ("SparkApplication", "ScheduledSparkApplication"):
        # ScheduledSparkApplication: spec.template is a whole SparkApplication spec
        at = ("spec", "template") if kind == "ScheduledSparkApplication" else ("spec",)
        return _spark_pods(resource, at, patch)
    return []


def merge(base: Any, over: Any) -> Any:
    """Pod template merge: mappings recursively, container lists by name, anything else replaced."""
    if over is None:
        return base
    if base is None:
        return over
    if base is UNKNOWN or over is UNKNOWN:
        return UNKNOWN
    if isinstance(base, Mapping) and isinstance(over, Mapping):
        out = dict(base)
        for key, value in over.items():
            if key in CONTAINER_LISTS and isinstance(base.get(key), list) and isinstance(value, list):
                out[key] = _merge_named(base[key], value)
            else:
                out[key] = merge(base.get(key), value)
        return out
    return over


def _merge_named(base: list[Any], over: list[Any]) -> list[Any]:
    out: list[Any] = list(base)
    for item in over:
        name = item.get("name") if isinstance(item, Mapping) else None
        at = next((i for i, b in enumerate(out) if isinstance(b, Mapping) and b.get("name") == name), None)
        if name is not None and at is not None:
            out[at] = merge(out[at], item)
        else:
            out.append(item)
    return out


class PartlyKnown(dict[str, Any]):
    """An object of which only some fields are known: every other field reads as unknown."""

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key, UNKNOWN)


def _with_main(spec: Any, name: str, main: Mapping[str, Any], first_is_main: bool = False) -> Any:
    """``spec`` with its main container (by name, or the first) overlaid with what the operator sets."""
    if spec is UNKNOWN:
        return UNKNOWN
    spec = dict(spec) if isinstance(spec, Mapping) else {}
    overlay = {k: v for k, v in main.items() if v is not None}
    if spec.get("containers") is UNKNOWN:  # only what the operator sets is known of the main container
        spec["containers"] = [PartlyKnown(name=name, **overlay)]
        return spec
    containers = items(spec.get("containers"))
    at = next(
        (i for i, c in enumerate(containers) if isinstance(c, Mapping) and c.get("name") == name),
        None,
    )
    if at is None:  # a container whose name is unknown may be the main one
        at = next(
            (i for i, c in enumerate(containers) if isinstance(c, Mapping) and c.get("name") is UNKNOWN),
            0 if first_is_main and containers else None,
        )
    if at is None:
        # an unknown container may be the main one: then only what the operator sets is known
        main_container = PartlyKnown if any(c is UNKNOWN for c in containers) else dict
        spec["containers"] = [main_container(name=name, **overlay), *containers]
    else:
        current = containers[at]
        merged = {**current, **overlay} if isinstance(current, Mapping) else PartlyKnown(name=name, **overlay)
        spec["containers"] = [*containers[:at], merged, *containers[at + 1 :]]
    return spec


def _flink_pods(resource: Resource, patch: bool) -> list[PodSpec]:
    spec = dig(resource.props, "spec")
    if not isinstance(spec, Mapping):
        return []
    pods = []
    for role in ("jobManager", "taskManager"):
        role_spec = spec.get(role)
        if role_spec is None:
            continue
        template = merge(spec.get("podTemplate"), dig(role_spec, "podTemplate"))
        resource_spec = dig(role_spec, "resource")
        main = {
            "image": spec.get("image"),
            "resources": _flink_resources(resource_spec),
        }
        pod = _with_main(dig(template, "spec") if template is not None else {}, "flink-main-container", main)
        if pod is UNKNOWN:
            continue
        pods.append(
            PodSpec(
                f"spec.{role}(pod)",
                pod,
                dig(template, "metadata") or {},
                partial=patch,
                named=True,
                managed_cpu_limit=True,
            )
        )
    return pods


def _flink_resources(resource_spec: Any) -> Any:
    if resource_spec is None:
        return None
    if resource_spec is UNKNOWN:
        return UNKNOWN
    memory = jvm_memory(dig(resource_spec, "memory"), default_unit="b")
    cpu = dig(resource_spec, "cpu")
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}}


def _spark_pods(resource: Resource, at: tuple[str, ...], patch: bool) -> list[PodSpec]:
    spec = dig(resource.props, *at)
    if not isinstance(spec, Mapping):
        return []
    base = ".".join(at)
    pods = []
    for role in ("driver", "executor"):
        r = spec.get(role)
        if not isinstance(r, Mapping):  # absent, or unknown as a whole: nothing to judge
            continue
        template = dig(r, "template")
        pod = dig(template, "spec") if template is not None else {}
        if pod is UNKNOWN:
            continue
        pod = dict(pod) if isinstance(pod, Mapping) else {}
        for key, value in (
            ("hostNetwork", r.get("hostNetwork")),
            ("shareProcessNamespace", r.get("shareProcessNamespace")),
            ("securityContext", r.get("podSecurityContext")),
            ("serviceAccountName", r.get("serviceAccount")),
        ):
            if value is not None:
                pod[key] = value
        if spec.get("volumes") is not None:
            pod["volumes"] = (
                [*items(pod.get("volumes")), *items(spec.get("volumes"))]
                if spec.get("volumes") is not UNKNOWN
                else UNKNOWN
            )
        main = {
            "image": r.get("image") if r.get("image") is not None else spec.get("image"),
            "securityContext": r.get("securityContext"),
            "ports": r.get("ports"),
            "resources": _spark_resources(r),
        }
        pod = _with_main(pod, f"spark-kubernetes-{role}", main, first_is_main=True)
        for key, extra in (("containers", r.get("sidecars")), ("initContainers", r.get("initContainers"))):
            if extra is not None:  # unknown extras: one unknown container, the rest still judged
                pod[key] = [*items(pod.get(key)), *(items(extra) if extra is not UNKNOWN else [UNKNOWN])]
        template_metadata = dig(template, "metadata")
        metadata = dict(template_metadata) if isinstance(template_metadata, Mapping) else {}
        if isinstance(r.get("annotations"), Mapping):
            metadata["annotations"] = {**(metadata.get("annotations") or {}), **r["annotations"]}
        pods.append(PodSpec(f"{base}.{role}(pod)", pod, metadata, partial=patch, named=True))
    return pods


def _spark_resources(role: Mapping[str, Any]) -> Any:
    cores, request = role.get("cores"), role.get("coreRequest")
    memory = jvm_memory(role.get("memory"), default_unit="m")
    limit_memory = (
        jvm_memory(role.get("memoryLimit"), default_unit="m")
        if role.get("memoryLimit") is not None
        else memory
    )
    requests = {"cpu": request if request is not None else cores, "memory": memory}
    limits = {"memory": limit_memory, "cpu": role.get("coreLimit")}
    return {"requests": requests, "limits": {k: v for k, v in limits.items() if v is not None}}


_JVM_SIZE = re.compile(r"^\s*([0-9]+)\s*([a-z]*)\s*$", re.IGNORECASE)
_JVM_UNITS = {
    "": None,
    "b": 0, "bytes": 0,
    "k": 1, "kb": 1, "kibibytes": 1,
    "m": 2, "mb": 2, "mebibytes": 2,
    "g": 3, "gb": 3, "gibibytes": 3,
    "t": 4, "tb": 4, "tebibytes": 4,
    "p": 5, "pb": 5,
}  # fmt: skip


def jvm_memory(value: Any, default_unit: str) -> Any:
    """A JVM-style size (Flink ``2048m``, Spark ``1g``: powers of 1024) as a Kubernetes quantity."""
    if value is None or value is UNKNOWN:
        return value
    match = _JVM_SIZE.match(str(value))
    if match is None or isinstance(value, bool):
        return str(value)  # not a size: the quantity rules report it as such
    unit = _JVM_UNITS.get(match.group(2).lower(), -1)
    if unit == -1:
        return str(value)
    power = _JVM_UNITS[default_unit] if unit is None else unit
    return str(Decimal(match.group(1)) * (Decimal(1024) ** (power or 0)))
