"""Typed stack configuration: everything a person writes in ``Pulumi.<env>.yaml``.

Keys are camelCase (Pulumi's convention); unknown keys are errors, never ignored. Kubernetes
quantities are parsed and compared by value. Secrets are ``SecretStr`` here and become
``pulumi.Output.secret`` values when they reach a component. The shared blocks live here: ``base``
(shared pieces and namespace guardrails), ``aws``; each system's block lives in its package
(``flow_platform_stacks.systems.<name>.config``), and :mod:`.stack` assembles the whole
``StackConfig`` from the registry.
"""

from .aws import AwsConfig, ClusterFacts, ClusterStack, EcrConfig, EfsConfig
from .base import Environment, ImageConfig, KubernetesConfig, Strict, SystemConfig

__all__ = [
    "AwsConfig",
    "ClusterFacts",
    "ClusterStack",
    "EcrConfig",
    "EfsConfig",
    "Environment",
    "ImageConfig",
    "KubernetesConfig",
    "Strict",
    "SystemConfig",
]
