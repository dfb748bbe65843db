"""One namespace with the guardrails every flow-platform namespace carries."""

from collections.abc import Mapping
from typing import TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .. import PACKAGE
from .labels import namespace_labels
from .network import default_deny_spec
from .resources import limit_range_spec, resource_quota_spec
from .security import PSA_LEVELS


class NamespaceGuardrailsArgs(TypedDict, total=False):
    namespace: pulumi.Input[str]
    """Name of the namespace to create (conventionally ``<system>-<env>``)."""
    env: pulumi.Input[str]
    """Environment label value (``deployment: <env>``): dev, tst, uat or prd."""
    system: pulumi.Input[str]
    """The system the namespace hosts (partek, flink, hyperflow, ...), for labels and quotas."""
    pod_security: pulumi.Input[str]
    """Pod Security Admission ``enforce`` level; anything but ``restricted`` needs ``pod_security_exception``."""
    pod_security_exception: pulumi.Input[str]
    """Why this namespace cannot be ``restricted``; recorded as an annotation for reviewers."""
    pod_security_version: pulumi.Input[str]
    """PSA policy version to pin (``v1.32``), so a cluster upgrade does not change admission silently."""
    default_request: pulumi.Input[Mapping[str, pulumi.Input[str]]]
    """LimitRange ``defaultRequest`` for containers that set none (cpu, memory)."""
    default_limit: pulumi.Input[Mapping[str, pulumi.Input[str]]]
    """LimitRange ``default`` limits for containers that set none (memory; cpu only if wanted)."""
    max_limit: pulumi.Input[Mapping[str, pulumi.Input[str]]]
    """LimitRange ``max`` per container: the largest pod the environment admits."""
    quota: pulumi.Input[Mapping[str, pulumi.Input[str]]]
    """ResourceQuota ``hard`` limits (``requests.cpu``, ``limits.memory``, ``pods``, ...)."""
    protect: bool
    """Protect the namespace from deletion (deleting it deletes every claim inside); a plain bool
    because resource options must be known when the resource is registered."""


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
        super().__init__(f"{PACKAGE}:index:NamespaceGuardrails", name, None, opts)
        env = pulumi.Output.from_input(args["env"])
        system = pulumi.Output.from_input(args["system"])
        reason = pulumi.Output.from_input(args.get("pod_security_exception") or "")
        level = pulumi.Output.all(pulumi.Output.from_input(args.get("pod_security", "restricted")), reason).apply(
            lambda lr: _check_exception(lr[0], lr[1])
        )
        version = pulumi.Output.from_input(args.get("pod_security_version", "latest"))
        labels = pulumi.Output.all(env, system, level, version).apply(lambda v: namespace_labels(*v))
        annotations = reason.apply(
            lambda r: {"flow-platform/pod-security-exception": r} if r.strip() else None
        )
        child = pulumi.ResourceOptions(parent=self)

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": args["namespace"], "labels": labels, "annotations": annotations},
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=args.get("protect", False))),
        )
        ns_name: pulumi.Output[str] = namespace.metadata.name
        member_labels = pulumi.Output.all(env, system).apply(
            lambda v: {"deployment": v[0], "flow-platform/system": v[1], "app.kubernetes.io/managed-by": "pulumi"}
        )

        k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata={"name": "default-limits", "namespace": ns_name, "labels": member_labels},
            spec=pulumi.Output.all(
                pulumi.Output.from_input(args["default_request"]),
                pulumi.Output.from_input(args["default_limit"]),
                pulumi.Output.from_input(args["max_limit"]),
            ).apply(lambda v: limit_range_spec(dict(v[0]), dict(v[1]), dict(v[2]))),
            opts=child,
        )
        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata={"name": "default-quota", "namespace": ns_name, "labels": member_labels},
            spec=pulumi.Output.from_input(args["quota"]).apply(lambda q: resource_quota_spec(dict(q))),
            opts=child,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            metadata={"name": "default-deny", "namespace": ns_name, "labels": member_labels},
            spec=default_deny_spec(),
            opts=child,
        )

        self.namespace_name = ns_name
        self.pod_security = level
        self.register_outputs({"namespace_name": ns_name, "pod_security": level})
