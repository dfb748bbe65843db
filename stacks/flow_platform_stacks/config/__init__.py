"""Typed stack configuration: everything a person writes in ``Pulumi.<env>.yaml``.

Keys are camelCase (Pulumi's convention); unknown keys are errors, never ignored. Kubernetes
quantities are parsed and compared by value. Secrets are ``SecretStr`` here and become
``pulumi.Output.secret`` values when they reach a component. One module per block: ``base``
(shared pieces and namespace guardrails), ``partek``, ``aws``.
"""

from typing import Self

from pydantic import model_validator

from ..errors import KeyProblem
from .base import SYSTEMS, Environment, KubernetesConfig, Strict, SystemConfig
from .partek import PartekConfig

__all__ = ["SYSTEMS", "Environment", "PartekConfig", "StackConfig", "SystemConfig"]


class StackConfig(Strict):
    """The whole ``flow-platform:`` namespace of one stack."""

    environment: Environment
    protect: bool = False
    """Protect stateful resources (namespaces, volumes, file systems, license storage); required in prd."""
    kubernetes: KubernetesConfig
    partek: PartekConfig | None = None
    flink: SystemConfig | None = None
    hyperflow: SystemConfig | None = None

    @model_validator(mode="after")
    def _environment_rules(self) -> Self:
        if self.environment == "prd" and not self.protect:
            raise KeyProblem(["protect"], "must be true in prd: stateful resources are protected there")
        seen: dict[str, str] = {}
        for system in SYSTEMS:
            namespace = self.namespace_of(system)
            if namespace is None:
                continue
            if namespace in seen:
                raise KeyProblem(
                    [system, "namespace"], f"{namespace!r} is already the namespace of {seen[namespace]}"
                )
            seen[namespace] = system
        return self

    def system(self, name: str) -> SystemConfig | None:
        block: SystemConfig | None = getattr(self, name)
        return block if block is not None and block.enabled else None

    def namespace_of(self, name: str) -> str | None:
        block = self.system(name)
        if block is None:
            return None
        return block.namespace or f"{name}-{self.environment}"

    def enabled_systems(self) -> list[str]:
        return [name for name in SYSTEMS if self.system(name) is not None]
