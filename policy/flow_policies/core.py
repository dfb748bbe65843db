"""What every rule needs: plain properties, pod specs, exceptions and violation messages."""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class _Unknown:
    """A value not known yet (computed during preview); rules skip exactly the fields that are."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Any = _Unknown()

POD_KINDS = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
LONG_RUNNING = {
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:ReplicaSet",
}
FLINK_DEPLOYMENT = "kubernetes:flink.apache.org/v1beta1:FlinkDeployment"
FLINK_TEMPLATES = (
    ("spec", "podTemplate", "spec"),
    ("spec", "jobManager", "podTemplate", "spec"),
    ("spec", "taskManager", "podTemplate", "spec"),
)


def plain(value: Any, unknown_error: type[BaseException] | None = None) -> Any:
    """Copy CrossGuard's unknown-checking proxy into plain data, unknowns as :data:`UNKNOWN`."""
    if isinstance(value, Mapping):
        return {key: _read(value, key, unknown_error) for key in list(value.keys())}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_read(value, i, unknown_error) for i in range(len(value))]
    return value


def _read(container: Any, key: Any, unknown_error: type[BaseException] | None) -> Any:
    try:
        return plain(container[key], unknown_error)
    except BaseException as error:
        if unknown_error is not None and isinstance(error, unknown_error):
            return UNKNOWN
        raise


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one (absent or unknown)."""
    return value if isinstance(value, Mapping) else {}


def dig(data: Any, *path: str | int) -> Any:
    """``data[path...]``, None where absent, :data:`UNKNOWN` where unknown."""
    for part in path:
        if data is UNKNOWN:
            return UNKNOWN
        if isinstance(part, int):
            data = data[part] if isinstance(data, list) and len(data) > part else None
        else:
            data = data.get(part) if isinstance(data, Mapping) else None
        if data is None:
            return None
    return data


@dataclass(frozen=True)
class Resource:
    """A resource as the engine describes it to an analyzer."""

    type: str
    name: str
    props: Mapping[str, Any]
    urn: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def namespace(self) -> str | None:
        value = dig(self.props, "metadata", "namespace")
        return value if isinstance(value, str) else None

    @property
    def object_name(self) -> str:
        value = dig(self.props, "metadata", "name")
        return value if isinstance(value, str) else self.name

    def label(self) -> str:
        kind = self.type.rsplit(":", 1)[-1]
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{kind} {where}{self.object_name}"


@dataclass(frozen=True)
class PodSpec:
    """One pod spec inside a workload, with the field path it sits at."""

    path: str
    spec: Mapping[str, Any]

    def containers(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for key in ("initContainers", "containers"):
            items = self.spec.get(key)
            if isinstance(items, list):
                for i, container in enumerate(items):
                    if isinstance(container, Mapping):
                        yield f"{self.path}.{key}[{i}]", container


def pod_specs(resource: Resource) -> list[PodSpec]:
    """The pod specs a resource carries (FlinkDeployment: its three pod templates)."""
    paths = [POD_KINDS[resource.type]] if resource.type in POD_KINDS else []
    if resource.type == FLINK_DEPLOYMENT:
        paths = list(FLINK_TEMPLATES)
    found = []
    for path in paths:
        spec = dig(resource.props, *path)
        if isinstance(spec, Mapping):
            found.append(PodSpec(".".join(path), spec))
    return found


@dataclass(frozen=True)
class Exception_:
    """A documented allowance for one workload."""

    namespace: str
    name: str
    allow: frozenset[str]
    reason: str


def exceptions_from(config: Mapping[str, Any] | None) -> list[Exception_]:
    items = (config or {}).get("exceptions") or []
    return [
        Exception_(e["namespace"], e["name"], frozenset(e.get("allow", [])), e.get("reason", ""))
        for e in items
        if isinstance(e, Mapping)
    ]


def allowed(resource: Resource, config: Mapping[str, Any] | None, allowance: str) -> bool:
    """True when an exception names this workload (namespace and name) and this allowance."""
    for exception in exceptions_from(config):
        same = exception.namespace == resource.namespace and exception.name == resource.object_name
        if same and allowance in exception.allow and exception.reason.strip():
            return True
    return False


def message(resource: Resource, path: str, problem: str, fix: str) -> str:
    """Every violation names the resource, the field path and the fix."""
    return f"{resource.label()}: {path}: {problem}; fix: {fix}"
