"""The guarded namespaces a stack creates beside each system's own: license server, NFS server,
Flink operator, image mirror. One helper, so each is labelled, sized and protected the same way."""

from collections.abc import Mapping
from contextvars import ContextVar
from typing import TypedDict

import pulumi
from flow_platform.k8s import NamespaceGuardrails, NamespaceGuardrailsArgs, PodSecurityLevel

_CREATED: ContextVar[dict[str, pulumi.Output[str]] | None] = ContextVar("created_namespaces", default=None)


def record_namespaces() -> dict[str, pulumi.Output[str]]:
    """From now on (in this context), every guarded namespace is recorded here by resource name."""
    created: dict[str, pulumi.Output[str]] = {}
    _CREATED.set(created)
    return created


class NamespaceSizes(TypedDict):
    """The LimitRange and ResourceQuota part of :class:`NamespaceGuardrailsArgs`."""

    default_request: Mapping[str, str]
    default_limit: Mapping[str, str]
    max_limit: Mapping[str, str]
    quota: Mapping[str, str]


def namespace_sizes(
    *,
    request: tuple[str, str],
    limit: str,
    maximum: tuple[str, str],
    quota: tuple[str, str, str],
    pods: int,
    claims: int,
) -> NamespaceSizes:
    """LimitRange and ResourceQuota of a small fixed-purpose namespace.

    ``request`` and ``maximum`` are (cpu, memory) per container, ``limit`` the default memory limit,
    ``quota`` the namespace's (requests.cpu, requests.memory, limits.memory).
    """
    return {
        "default_request": {"cpu": request[0], "memory": request[1]},
        "default_limit": {"memory": limit},
        "max_limit": {"cpu": maximum[0], "memory": maximum[1]},
        "quota": {
            "requests.cpu": quota[0],
            "requests.memory": quota[1],
            "limits.memory": quota[2],
            "pods": str(pods),
            "persistentvolumeclaims": str(claims),
        },
    }


def guarded_namespace(
    resource_name: str,
    namespace: str,
    system: str,
    sizes: NamespaceSizes,
    opts: pulumi.ResourceOptions,
    *,
    env: str,
    protect: bool,
    pod_security_version: str,
    privileged_because: str | None = None,
) -> NamespaceGuardrails:
    """A namespace with the full guardrails; ``privileged_because`` documents a PSA exception."""
    args: NamespaceGuardrailsArgs = {
        "namespace": namespace,
        "env": env,
        "system": system,
        "pod_security_version": pod_security_version,
        "protect": protect,
        "default_request": sizes["default_request"],
        "default_limit": sizes["default_limit"],
        "max_limit": sizes["max_limit"],
        "quota": sizes["quota"],
    }
    if privileged_because is not None:
        args["pod_security"] = PodSecurityLevel.PRIVILEGED
        args["pod_security_exception"] = privileged_because
    guardrails = NamespaceGuardrails(resource_name, args, opts)
    created = _CREATED.get()
    if created is not None:
        created[resource_name] = guardrails.namespace_name
    return guardrails
