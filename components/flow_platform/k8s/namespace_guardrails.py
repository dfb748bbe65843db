"""One namespace with the guardrails every flow-platform namespace carries."""

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .. import PACKAGE
from .. import validation as v
from .labels import namespace_labels
from .network import default_deny_spec
from .resources import limit_range_spec, resource_quota_spec
from .security import PSA_LEVELS


class PodSecurityLevel(StrEnum):
    """Pod Security Admission levels (``pod-security.kubernetes.io/enforce``)."""

    RESTRICTED = "restricted"
    """The hardened profile every flow-platform workload meets by default."""
    BASELINE = "baseline"
    """Minimal restrictions; needs a documented ``pod_security_exception``."""
    PRIVILEGED = "privileged"
    """Unrestricted; only for a namespace that holds exactly one documented exception."""


DEFAULT_POD_SECURITY = PodSecurityLevel.RESTRICTED.value
DEFAULT_POD_SECURITY_VERSION = "latest"
LIMIT_KEYS = ("cpu", "memory")
QUOTA_KEYS = (
    "configmaps",
    "count/jobs.batch",
    "limits.cpu",
    "limits.memory",
    "persistentvolumeclaims",
    "pods",
    "requests.cpu",
    "requests.memory",
    "requests.storage",
    "secrets",
    "services",
)


class NamespaceGuardrailsArgs(TypedDict, total=False):
    """Inputs of :class:`NamespaceGuardrails`."""

    namespace: Required[pulumi.Input[str]]
    """Name of the namespace to create (conventionally ``<system>-<env>``)."""
    env: Required[pulumi.Input[str]]
    """Environment label value (``deployment: <env>``): dev, tst, uat or prd."""
    system: Required[pulumi.Input[str]]
    """The system the namespace hosts (partek, flink, hyperflow, ...), for labels and quotas."""
    pod_security: PodSecurityLevel
    """Pod Security Admission ``enforce`` level; anything but ``restricted`` needs an exception.
    A plain value: admission policy is reviewed in code, never computed. Default: ``restricted``."""
    pod_security_exception: pulumi.Input[str]
    """Why this namespace cannot be ``restricted``; recorded as an annotation for reviewers.
    Default: none (required when ``pod_security`` is not ``restricted``)."""
    pod_security_version: pulumi.Input[str]
    """PSA policy version to pin (``v1.32``), so a cluster upgrade does not change admission silently.
    Default: ``latest``."""
    default_request: Required[pulumi.Input[Mapping[str, pulumi.Input[str]]]]
    """LimitRange ``defaultRequest`` for containers that set none (cpu, memory)."""
    default_limit: Required[pulumi.Input[Mapping[str, pulumi.Input[str]]]]
    """LimitRange ``default`` limits for containers that set none (memory; cpu only if wanted)."""
    max_limit: Required[pulumi.Input[Mapping[str, pulumi.Input[str]]]]
    """LimitRange ``max`` per container: the largest pod the environment admits. Its ``cpu`` is
    rendered only with a ``default_limit`` cpu: the API server defaults every container's CPU limit
    to ``max.cpu`` otherwise (see :func:`flow_platform.k8s.resources.limit_range_spec`)."""
    quota: Required[pulumi.Input[Mapping[str, pulumi.Input[str]]]]
    """ResourceQuota ``hard`` limits (``requests.cpu``, ``limits.memory``, ``pods``, ...)."""
    protect: bool
    """Protect the namespace from deletion (deleting it deletes every claim inside); a plain bool
    because resource options must be known when the resource is registered. Default: ``false``."""


def _ordered(args: Mapping[str, Any], low_key: str, high_key: str, resource: str) -> str | None:
    """``low_key[resource]`` is not above ``high_key[resource]`` (when both are known now)."""
    low, high = args[low_key], args[high_key]
    if isinstance(low, pulumi.Output) or isinstance(high, pulumi.Output):
        return None
    low_value, high_value = low.get(resource), high.get(resource)
    if not isinstance(low_value, str) or not isinstance(high_value, str):
        return None
    if v.quantity(low_value) > v.quantity(high_value):
        return f"{resource} {high_value} is below {low_key}.{resource} ({low_value})"
    return None


ARGS = v.ArgsSpec(
    "NamespaceGuardrails",
    NamespaceGuardrailsArgs,
    {
        "namespace": v.owned_namespace,
        "env": v.label_value,
        "system": v.label_value,
        "pod_security": v.one_of(PodSecurityLevel),
        "pod_security_exception": v.text,
        "pod_security_version": v.psa_version,
        "default_request": v.resource_map(LIMIT_KEYS, v.quantity),
        "default_limit": v.resource_map(LIMIT_KEYS, v.quantity),
        "max_limit": v.resource_map(LIMIT_KEYS, v.quantity),
        "quota": v.resource_map(QUOTA_KEYS, v.quantity),
        "protect": v.boolean,
    },
    rules=[
        v.rule("default_limit", lambda a: _ordered(a, "default_request", "default_limit", "memory")),
        v.rule("max_limit", lambda a: _ordered(a, "default_limit", "max_limit", "memory")),
        v.rule("max_limit", lambda a: _ordered(a, "default_request", "max_limit", "cpu")),
    ],
)


def _strings(mapping: Mapping[str, Any]) -> dict[str, str]:
    """A resolved mapping of quantities; inputs inside it are plain values by the time apply runs."""
    return {str(k): str(v) for k, v in mapping.items()}


def _check_exception(level: str, reason: str | None) -> str:
    if level not in PSA_LEVELS:
        raise ValueError(f"pod_security must be one of {', '.join(PSA_LEVELS)}, not {level!r}")
    if level != "restricted" and not (reason or "").strip():
        raise ValueError(f"pod_security {level!r} needs a documented pod_security_exception")
    return level


class NamespaceGuardrails(pulumi.ComponentResource):
    """A namespace closed by default: PSA label, LimitRange, ResourceQuota, default-deny policy.

    Components that run in the namespace add their own allow policies (see
    :mod:`flow_platform.k8s.network`); nothing is reachable until they do.
    """

    namespace_name: pulumi.Output[str]
    """The namespace's name, to pass to the components that run in it."""
    pod_security: pulumi.Output[str]
    """The enforced Pod Security Admission level."""

    def __init__(
        self,
        name: str,
        args: NamespaceGuardrailsArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:NamespaceGuardrails", name, None, opts)
        env = pulumi.Output.from_input(args["env"])
        system = pulumi.Output.from_input(args["system"])
        reason = pulumi.Output.from_input(args.get("pod_security_exception") or "")
        level = pulumi.Output.all(
            pulumi.Output.from_input(args.get("pod_security", DEFAULT_POD_SECURITY)), reason
        ).apply(lambda lr: _check_exception(lr[0], lr[1]))
        version = pulumi.Output.from_input(args.get("pod_security_version", DEFAULT_POD_SECURITY_VERSION))
        labels = pulumi.Output.all(env, system, level, version).apply(lambda v: namespace_labels(*v))
        annotations = reason.apply(
            lambda r: {"flow-platform/pod-security-exception": r} if r.strip() else None
        )
        child = pulumi.ResourceOptions(parent=self)

        ns_metadata: k8s.meta.v1.ObjectMetaArgsDict = {
            "name": args["namespace"],
            "labels": labels,
            "annotations": annotations,
        }
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=ns_metadata,
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(protect=args.get("protect", False))
            ),
        )
        ns_name: pulumi.Output[str] = namespace.metadata.name
        member_labels = pulumi.Output.all(env, system).apply(
            lambda v: {
                "deployment": v[0],
                "flow-platform/system": v[1],
                "app.kubernetes.io/managed-by": "pulumi",
            }
        )

        def metadata(object_name: str) -> k8s.meta.v1.ObjectMetaArgsDict:
            return {"name": object_name, "namespace": ns_name, "labels": member_labels}

        # Specs are Kubernetes-shaped (camelCase) data from the pure builders; the SDK passes them through.
        limit_spec: Any = pulumi.Output.all(
            pulumi.Output.from_input(args["default_request"]),
            pulumi.Output.from_input(args["default_limit"]),
            pulumi.Output.from_input(args["max_limit"]),
        ).apply(lambda v: limit_range_spec(_strings(v[0]), _strings(v[1]), _strings(v[2])))
        quota_spec: Any = pulumi.Output.from_input(args["quota"]).apply(
            lambda q: resource_quota_spec(_strings(q))
        )
        deny_spec: Any = default_deny_spec()

        k8s.core.v1.LimitRange(
            f"{name}-limits", metadata=metadata("default-limits"), spec=limit_spec, opts=child
        )
        k8s.core.v1.ResourceQuota(
            f"{name}-quota", metadata=metadata("default-quota"), spec=quota_spec, opts=child
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny", metadata=metadata("default-deny"), spec=deny_spec, opts=child
        )

        self.namespace_name = ns_name
        self.pod_security = level
        self.register_outputs({"namespace_name": ns_name, "pod_security": level})
