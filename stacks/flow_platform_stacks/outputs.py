"""The stack outputs other stacks consume: one shape in every environment.

Every key is always present; what a stack does not create is an explicit empty value (``""``,
``false`` or ``{}``), so a consumer's ``StackReference.get_output`` never depends on which
systems an environment enables. The README's "Stack outputs" section documents each key.
"""

from collections.abc import Mapping
from typing import Any

import pulumi

CLUSTER_DOMAIN = "cluster.local"
"""Kubernetes' default cluster domain (kubelet ``--cluster-domain``)."""

EXTRA_NAMESPACES = {
    "partek-license": "partekLicense",
    "hyperflow-nfs": "hyperflowNfs",
    "flink-operator": "flinkOperator",
    "image-mirror": "imageMirror",
}
"""Guarded namespaces beside the systems' own (resource name -> output key)."""
NAMESPACE_KEYS = ("partek", "flink", "hyperflow", *EXTRA_NAMESPACES.values())
SERVICE_KEYS = ("partekFlowUi", "flexlm", "flinkRest", "redis", "nfsServer")
"""No HyperFlow server: v1.5.7 listens on 127.0.0.1 only, so there is no Service for it."""
SYSTEM_KEYS: dict[str, dict[str, Any]] = {
    "partek": {"namespace": "", "url": "", "licenseAddress": "", "headnodeService": "", "homeClaim": ""},
    "flink": {"namespace": "", "deployment": "", "operatorInstalled": False, "restUrl": ""},
    "hyperflow": {"namespace": "", "workDirClaim": "", "engineServiceAccount": ""},
}
EFS_SYSTEMS = ("partek", "flink", "hyperflow")


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
