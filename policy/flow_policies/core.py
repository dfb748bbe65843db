"""What every rule needs: plain properties, pod specs, exceptions and violation messages.

Unknown values (computed during preview) arrive from CrossGuard as an unknown-checking proxy that
raises on access; :func:`plain` turns each into :data:`UNKNOWN` once. ``UNKNOWN`` is inert, so no
rule can crash on it: reading a field of it gives it back, iterating it gives nothing, it contains
nothing and equals only itself. Rules that fail a resource for a *missing* value test
:func:`absent` (None, never unknown), so an unknown field is skipped, not failed.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class _Unknown:
    """A value not known yet (computed during preview); rules skip exactly the fields that are."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<unknown>"

    __str__ = __repr__

    def __bool__(self) -> bool:  # ``x or []`` keeps an unknown list unknown
        return True

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __contains__(self, item: object) -> bool:
        return False

    def __getitem__(self, key: object) -> Any:
        return self

    def get(self, key: object, default: object = None) -> Any:
        return self

    def keys(self) -> tuple[()]:
        return ()

    def values(self) -> tuple[()]:
        return ()

    def items(self) -> tuple[()]:
        return ()

    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return 0x04DA6B54

    def __lt__(self, other: object) -> bool:
        return False

    __le__ = __gt__ = __ge__ = __lt__


UNKNOWN: Any = _Unknown()


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


def absent(value: Any) -> bool:
    """Certainly not set (an unknown value may well be set)."""
    return value is None


def items(value: Any) -> list[Any]:
    """The elements of a list; none for absent, unknown or malformed values."""
    return value if isinstance(value, list) else []


def strings(value: Any) -> list[str]:
    """The known string elements of a list."""
    return [v for v in items(value) if isinstance(v, str)]


def has(value: Any, item: Any) -> bool | None:
    """Whether a list holds ``item``: None when that cannot be known (the list or an element is unknown)."""
    if value is UNKNOWN:
        return None
    listed = items(value)
    if item in listed:
        return True
    return None if any(v is UNKNOWN for v in listed) else False


def plain(value: Any, unknown_error: type[BaseException] | None = None) -> Any:
    """Copy CrossGuard's unknown-checking proxy into plain data, unknowns as :data:`UNKNOWN`."""
    if isinstance(value, Mapping):
        return {key: _read(value, key, unknown_error) for key in list(value.keys())}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_read(value, i, unknown_error) for i in range(len(value))]
    if isinstance(value, str) and value in UNKNOWN_SENTINELS:
        return UNKNOWN
    return value


# pulumi_policy.proxy's sentinels (the engine marshals every unknown as the string one during preview)
UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)


def _read(container: Any, key: Any, unknown_error: type[BaseException] | None) -> Any:
    try:
        return plain(container[key], unknown_error)
    except BaseException as error:
        if unknown_error is not None and isinstance(error, unknown_error):
            return UNKNOWN
        raise


def mapping(value: Any) -> Any:
    """``value`` when it is a mapping or unknown (whose fields are unknown), else an empty mapping."""
    return value if isinstance(value, Mapping) or value is UNKNOWN else {}


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


def type_parts(type_token: str) -> tuple[str, str, bool]:
    """``kubernetes:apps/v1:DeploymentPatch`` -> (``apps``, ``Deployment``, patch)."""
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes":
        return "", "", False
    group = parts[1].split("/", 1)[0]
    kind = parts[2]
    patch = kind.endswith("Patch")
    return group, kind.removesuffix("Patch") if patch else kind, patch


@dataclass(frozen=True)
class Resource:
    """A resource as the engine describes it to an analyzer."""

    type: str
    name: str
    props: Mapping[str, Any]
    urn: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @property
    def namespace(self) -> str | None:
        value = dig(self.props, "metadata", "namespace")
        return value if isinstance(value, str) else None

    @property
    def object_name(self) -> str:
        value = dig(self.props, "metadata", "name")
        return value if isinstance(value, str) else self.name

    @property
    def kind(self) -> str:
        return type_parts(self.type)[1] or self.type.rsplit(":", 1)[-1]

    @property
    def patch(self) -> bool:
        return type_parts(self.type)[2]

    def label(self) -> str:
        kind = self.type.rsplit(":", 1)[-1]
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{kind} {where}{self.object_name}"


@dataclass(frozen=True)
class Exception_:
    """A documented allowance for one workload."""

    namespace: str
    name: str
    allow: frozenset[str]
    reason: str


def exceptions_from(config: Mapping[str, Any] | None) -> list[Exception_]:
    out = []
    for e in items((config or {}).get("exceptions")):
        if isinstance(e, Mapping) and isinstance(e.get("namespace"), str) and isinstance(e.get("name"), str):
            out.append(
                Exception_(
                    e["namespace"], e["name"], frozenset(strings(e.get("allow"))), str(e.get("reason") or "")
                )
            )
    return out


def allowed(resource: Resource, config: Mapping[str, Any] | None, allowance: str) -> bool:
    """True when an exception names this workload (namespace and name) and this allowance.

    Cluster-scoped objects (ClusterRole, ...) are named with an empty namespace ``""``.
    """
    namespace = resource.namespace or ""
    for exception in exceptions_from(config):
        same = exception.namespace == namespace and exception.name == resource.object_name
        if same and allowance in exception.allow and exception.reason.strip():
            return True
    return False


def message(resource: Resource, path: str, problem: str, fix: str) -> str:
    """Every violation names the resource, the field path and the fix."""
    return f"{resource.label()}: {path}: {problem}; fix: {fix}"
