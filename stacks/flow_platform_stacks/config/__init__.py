"""Typed stack configuration: everything a person writes in ``Pulumi.<env>.yaml``.

Keys are camelCase (Pulumi's convention); unknown keys are errors, never ignored. Kubernetes
quantities are parsed and compared by value. Secrets are ``SecretStr`` here and become
``pulumi.Output.secret`` values when they reach a component. One module per block: ``base``
(shared pieces and namespace guardrails), ``partek``, ``aws``.
"""

from typing import Self

from flow_platform.aws import CACHEABLE, ImageRef, needs_copy
from pydantic import model_validator

from ..errors import KeyProblem
from .aws import AwsConfig, ClusterFacts, ClusterStack, EcrConfig, EfsConfig
from .base import SYSTEMS, Environment, KubernetesConfig, Strict, SystemConfig
from .flink import FlinkConfig
from .hyperflow import HyperflowConfig
from .partek import PartekConfig

__all__ = [
    "SYSTEMS",
    "AwsConfig",
    "ClusterFacts",
    "ClusterStack",
    "EcrConfig",
    "EfsConfig",
    "Environment",
    "FlinkConfig",
    "HyperflowConfig",
    "PartekConfig",
    "StackConfig",
    "SystemConfig",
]


class StackConfig(Strict):
    """The whole ``flow-platform:`` namespace of one stack."""

    environment: Environment
    protect: bool = False
    """Protect stateful resources (namespaces, volumes, file systems, license storage); required in prd."""
    kubernetes: KubernetesConfig
    aws: AwsConfig | None = None
    partek: PartekConfig | None = None
    flink: FlinkConfig | None = None
    hyperflow: HyperflowConfig | None = None

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

    @model_validator(mode="after")
    def _aws_rules(self) -> Self:
        aws = self.aws
        partek = self.partek if self.partek is not None and self.partek.enabled else None
        if partek is not None and partek.home.efs and (aws is None or aws.efs is None):
            raise KeyProblem(["partek", "home", "efs"], "needs aws.efs (and aws: accountId, region, cluster)")
        hyperflow = self.hyperflow if self.hyperflow is not None and self.hyperflow.enabled else None
        if hyperflow is not None and hyperflow.storage.mode == "efs" and (aws is None or aws.efs is None):
            raise KeyProblem(
                ["hyperflow", "storage", "mode"], "'efs' needs aws.efs; use 'in-cluster' without AWS"
            )
        if aws is None:
            return self
        if self.environment == "prd" and aws.efs is not None and aws.efs.kms_key_arn is None:
            raise KeyProblem(["aws", "efs", "kmsKeyArn"], "required in prd: encrypt with a customer KMS key")
        if self.protect and aws.efs is not None and aws.efs.backup is None:
            raise KeyProblem(
                ["aws", "efs", "backup"],
                "required where protect is true: an AWS Backup plan (schedule, deleteAfterDays)"
                " for the file systems",
            )
        mirror = aws.mirror()
        if mirror is not None:
            images = self.images()
            copied = sorted(name for name, ref in images.items() if needs_copy(ref))
            if copied and mirror.copy_job is None:
                raise KeyProblem(
                    ["aws", "ecr", "copyJob"],
                    f"required: {', '.join(copied)} come from registries ECR cannot cache, so the copy job"
                    " must push them (set copyJob.sourceAuth with their credentials)",
                )
            for ref in images.values():
                registry = ImageRef.parse(ref).registry
                upstream = CACHEABLE.get(registry)
                if (
                    upstream is not None
                    and upstream.needs_credentials
                    and upstream.key not in mirror.credential_arns
                ):
                    raise KeyProblem(
                        ["aws", "ecr", "credentialArns", upstream.key],
                        f"the {registry} pull-through cache needs a Secrets Manager credential"
                        " (named ecr-pullthroughcache/...)",
                    )
        return self

    def images(self) -> dict[str, str]:
        """Every image the stack runs, logical name -> upstream reference."""
        images: dict[str, str] = {}
        partek = self.system("partek")
        if isinstance(partek, PartekConfig):
            images.update(partek.images())
        hyperflow = self.system("hyperflow")
        if isinstance(hyperflow, HyperflowConfig):
            images.update(hyperflow.images())
        flink = self.system("flink")
        if isinstance(flink, FlinkConfig):
            images.update(flink.images())
        mirror = self.aws.mirror() if self.aws is not None else None
        if mirror is not None and mirror.copy_job is not None and any(needs_copy(r) for r in images.values()):
            images["skopeo"] = mirror.copy_job.copier_image
            images["aws-cli"] = mirror.copy_job.aws_cli_image
        return images

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
