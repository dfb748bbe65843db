"""The stack outputs other stacks consume: one shape in every environment.

Every key is always present; what a stack does not create is an explicit empty value (``""``,
``false`` or ``{}``), so a consumer's ``StackReference.get_output`` never depends on which
systems an environment enables. The README's "Stack outputs" section documents each key.
"""

from collections.abc import Mapping
from typing import Any

import pulumi

from .systems import REGISTRY
from .systems.base import CLUSTER_DOMAIN

EXTRA_NAMESPACES = {
    **{resource: key for system in REGISTRY for resource, key in system.side_namespace_keys.items()},
    "image-mirror": "imageMirror",
}
"""Guarded namespaces beside the systems' own (resource name -> output key)."""
NAMESPACE_KEYS = (*(system.name for system in REGISTRY), *EXTRA_NAMESPACES.values())
SERVICE_KEYS = tuple(key for system in REGISTRY for key in system.services)
SYSTEM_KEYS: dict[str, dict[str, Any]] = {system.name: dict(system.outputs) for system in REGISTRY}
EFS_SYSTEMS = tuple(system.name for system in REGISTRY if system.uses_efs)


def service_dns(service: str, namespace: str) -> str:
    """The fully qualified name of a Service, as cluster DNS serves it."""
    return f"{service}.{namespace}.svc.{CLUSTER_DOMAIN}"


def empty_outputs() -> dict[str, Any]:
    """The shape with nothing created: the value of every key a disabled part leaves."""
    return {
        "namespaces": dict.fromkeys(NAMESPACE_KEYS, ""),
        "services": dict.fromkeys(SERVICE_KEYS, ""),
        "efs": {system: {"fileSystemId": "", "accessPointId": ""} for system in EFS_SYSTEMS},
        "ecr": {"repositoryUrls": {}},
        "imageUris": {},
        **{system: dict(keys) for system, keys in SYSTEM_KEYS.items()},
    }


def system_outputs(system: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """A system's outputs in the fixed shape: unknown keys are a programming error."""
    keys = SYSTEM_KEYS[system]
    unknown = sorted(set(values) - set(keys))
    assert not unknown, f"{system} outputs {unknown} are not in outputs.SYSTEM_KEYS"
    return {**keys, **values}


def export_all(outputs: Mapping[str, Any]) -> None:
    """Export every top-level key (``pulumi.export``)."""
    for key, value in outputs.items():
        pulumi.export(key, value)
