"""The seam between the stack program and a system: what every system says about itself.

``program.py``, ``StackConfig``, the stack outputs, the EFS rule, namespace uniqueness and the
image list are derived from :data:`~flow_platform_stacks.systems.REGISTRY`, a tuple of
:class:`System` instances; a system sees the stack only through a :class:`StackContext`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import pulumi
from flow_platform.k8s import NamespaceGuardrails, Quantity

from ..config.base import ApiServer, SystemConfig
from ..namespaces import NamespaceSizes, guarded_namespace

if TYPE_CHECKING:
    from flow_platform.aws import EfsSharedVolume

    from ..aws_foundation import Foundation
    from ..config.stack import StackConfig
    from ..operators import OperatorInstall

C = TypeVar("C", bound=SystemConfig)

CLUSTER_DOMAIN = "cluster.local"
"""Kubernetes' default cluster domain (kubelet ``--cluster-domain``)."""


def service_dns(service: Any, namespace: Any) -> pulumi.Output[str]:
    """A Service's fully qualified name as cluster DNS serves it (inputs may be Outputs)."""
    return pulumi.Output.concat(service, ".", namespace, f".svc.{CLUSTER_DOMAIN}")


@dataclass(frozen=True)
class Workload:
    """Pods of one kind a system runs in its namespace, with the keys that size them."""

    what: str
    path: tuple[str, ...]
    count: int
    cpu: Quantity
    memory: Quantity
    memory_limit: Quantity
    cpu_key: str = "cpu"
    memory_key: str = "memory"
    memory_limit_key: str = "memoryLimit"


@dataclass(frozen=True)
class SideNamespace:
    """A guarded namespace a system creates beside its own (license server, NFS server, operator)."""

    resource_name: str
    """The NamespaceGuardrails' logical name; a key of :attr:`System.side_namespace_keys`."""
    name: str
    """The namespace in this stack."""
    path: tuple[str, ...]
    """The key that sets it (reported when it clashes with another namespace)."""


@dataclass(frozen=True)
class EfsNeed:
    """Why a system's block needs ``aws.efs``: the key that asks for it and what to do instead."""

    path: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class PolicyException:
    """A pre-approved exception to one policy for one workload (policy/config/<env>.json)."""

    policy: str
    namespace: str
    name: str
    allow: tuple[str, ...]
    reason: str


PRIVILEGED_NAMESPACE = "namespace-pod-security"
"""A :class:`PolicyException` of this policy names a namespace (``namespace`` and ``name``) allowed
below the restricted Pod Security level: it goes to the policy's ``privilegedNamespaces``."""


@dataclass(frozen=True)
class IngressController:
    """The cluster's ingress controller: its class and where its pods run (for NetworkPolicy)."""

    class_name: str
    namespace: str
    pod_labels: Mapping[str, str]


@dataclass(frozen=True)
class SystemResult:
    """What :meth:`System.deploy` returns: its output keys and its Service DNS names."""

    outputs: Mapping[str, Any]
    """Keys of :attr:`System.outputs` (the others keep their empty value)."""
    services: Mapping[str, Any] = field(default_factory=dict)
    """Keys of :attr:`System.services` -> ``service_dns(...)``."""


@dataclass(frozen=True)
class StackContext:
    """The narrow view of the stack a system deploys into (no StackConfig inside)."""

    env: str
    protect: bool
    pod_security_version: str
    api_server: ApiServer
    ingress: IngressController
    foundation: Foundation
    opts: pulumi.ResourceOptions
    """The system's resource options: the providers, and after its namespace's guardrails."""
    operators: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Per operator this system installs: the namespaces it watches (from :meth:`System.preflight`)."""

    def merged(self, *depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
        """:attr:`opts` with further dependencies."""
        return pulumi.ResourceOptions.merge(self.opts, pulumi.ResourceOptions(depends_on=list(depends_on)))

    def guarded_namespace(
        self,
        resource_name: str,
        namespace: str,
        system: str,
        sizes: NamespaceSizes,
        privileged_because: str | None = None,
    ) -> NamespaceGuardrails:
        """A side namespace with the full guardrails (recorded for the stack outputs)."""
        return guarded_namespace(
            resource_name,
            namespace,
            system,
            sizes,
            self.opts,
            env=self.env,
            protect=self.protect,
            pod_security_version=self.pod_security_version,
            privileged_because=privileged_because,
        )

    def shared_volume(
        self, name: str, system: str, namespace: str, claim_name: str, size: str, uid: int | None = None
    ) -> EfsSharedVolume:
        """An EFS-backed ReadWriteMany claim (the system's :meth:`System.efs_need` said so), owned by
        ``uid`` (the data UID its component exposes) or the volume's default."""
        from ..aws_foundation import shared_volume

        if self.foundation.cfg is None or self.foundation.cfg.efs is None:
            raise AssertionError(
                f"{system}: shared_volume without aws.efs; its System.efs_need must say when it needs"
                " EFS, so StackConfig rejects such a stack before anything is registered"
            )
        return shared_volume(
            name, self.env, self.protect, self.foundation, system, namespace, claim_name, size, self.opts, uid
        )


class System(ABC, Generic[C]):
    """One deployable system: a config block, images, namespaces, sizing and its resources.

    Class attributes describe the fixed shape (the same in every environment); methods read the
    validated block of one stack.
    """

    name: ClassVar[str]
    """Config key, default namespace ``<name>-<env>``, key of its outputs."""
    title: ClassVar[str]
    """What it deploys, one line (README systems table)."""
    description: ClassVar[str]
    """Pulumi.yaml's description of its config key."""
    config: type[C]
    """Its block's pydantic model."""
    outputs: ClassVar[Mapping[str, Any]]
    """Its output keys under ``outputs[name]`` with their empty values."""
    services: ClassVar[tuple[str, ...]] = ()
    """Its keys under ``outputs["services"]``."""
    side_namespace_keys: ClassVar[Mapping[str, str]] = {}
    """Resource name of each side namespace it may create -> its key under ``outputs["namespaces"]``."""
    uses_efs: ClassVar[bool] = False
    """Whether it may have an EFS volume (a key under ``outputs["efs"]``)."""
    nfr_monitoring: ClassVar[bool] = False
    """Whether its namespace is measured by the NFR rules and ``flow-platform nfr`` (``monitoring``)."""

    @abstractmethod
    def images(self, block: C) -> dict[str, str]:
        """Logical image name -> upstream reference, for the mirror."""

    def efs_need(self, block: C) -> EfsNeed | None:
        """Why this block needs ``aws.efs``, or None."""
        return None

    def side_namespaces(self, block: C, env: str) -> list[SideNamespace]:
        """The side namespaces this block creates."""
        return []

    def workloads(self, block: C) -> list[Workload]:
        """What it runs in its own namespace, as the components size it."""
        return []

    def claims(self, block: C) -> int:
        """Claims it creates (or uses) in its own namespace."""
        return 0

    def check(self, block: C, stack: StackConfig) -> None:
        """Rules across blocks (raise :class:`~flow_platform_stacks.errors.KeyProblem` with a path
        from the top of the stack config)."""

    def policy_exceptions(self, block: C, env: str, namespace: str) -> list[PolicyException]:
        """The policy pack's pre-approved exceptions for exactly the workloads this block deploys
        (``flow-platform policy-config <env>`` writes them to policy/config/<env>.json)."""
        return []

    def operators(self, block: C, namespace: str) -> list[OperatorInstall]:
        """The operators it installs (:mod:`flow_platform_stacks.operators`: one owner of their
        CRDs per cluster, each stack's operator watching its own namespaces)."""
        return []

    def preflight(
        self, block: C, namespace: str, stack: str, project_dir: Path
    ) -> Mapping[str, Sequence[str]]:
        """Checks against the project's other stacks, before anything is registered (raise
        :class:`~flow_platform_stacks.errors.ConfigError`); returns the namespaces each operator
        it installs watches (:attr:`StackContext.operators`). By default: the operator plan."""
        from ..operators import plan

        return plan(project_dir, stack, self.operators(block, namespace))

    @abstractmethod
    def deploy(self, ctx: StackContext, block: C, namespace: str) -> SystemResult:
        """Register its resources into ``namespace`` (its guardrails exist already)."""
