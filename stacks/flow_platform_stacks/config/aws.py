"""The ``flow-platform:aws`` block: account, cluster facts, EFS and the ECR mirror."""

import re
from typing import Literal, Self

from flow_platform import validation
from pydantic import Field, SecretStr, field_validator, model_validator

from ..errors import KeyProblem
from .base import DNS_LABEL, ImageReference, Strict
from .rules import aws_tag_problems

ACCOUNT_ID = validation.AWS_ACCOUNT_ID.pattern
REGION = validation.AWS_REGION.pattern
KMS_ARN = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[A-Za-z0-9/_-]+$"
SECRETS_MANAGER_ARN = r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:ecr-pullthroughcache/.+$"
COMPONENT_TAGS = {
    "env": "the environment",
    "system": "the system",
    "managed-by": "pulumi",
    "Name": "the resource's name",
    "image": "the mirrored image",
}
"""Tags flow_platform.aws components set on their resources, beside ``aws.tags`` (default tags)."""
CRON = validation.CRON


class ClusterFacts(Strict):
    """The EKS cluster the stack deploys into, given directly."""

    vpc_id: str = Field(pattern=r"^vpc-[0-9a-f]{8,17}$")
    private_subnet_ids: list[str] = Field(min_length=1)
    node_security_group_id: str = Field(pattern=r"^sg-[0-9a-f]{8,17}$")
    oidc_provider_arn: str = Field(
        pattern=r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/oidc\.eks\..+/id/[A-Z0-9]+$"
    )
    oidc_provider_url: str = Field(pattern=r"^(https://)?oidc\.eks\.[a-z0-9-]+\.amazonaws\.com/id/[A-Z0-9]+$")

    @field_validator("private_subnet_ids")
    @classmethod
    def _subnets(cls, value: list[str]) -> list[str]:
        for i, subnet in enumerate(value):
            if not re.match(r"^subnet-[0-9a-f]{8,17}$", subnet):
                raise KeyProblem([i], f"{subnet!r} is not a subnet id (subnet-0123456789abcdef0)")
        if len(set(value)) != len(value):
            raise ValueError("a subnet is listed twice")
        return sorted(value)


class ClusterStackOutputs(Strict):
    """Names of the outputs that carry each fact in the cluster stack."""

    vpc_id: str = "vpcId"
    private_subnet_ids: str = "privateSubnetIds"
    node_security_group_id: str = "nodeSecurityGroupId"
    oidc_provider_arn: str = "oidcProviderArn"
    oidc_provider_url: str = "oidcProviderUrl"


class ClusterStack(Strict):
    """The EKS cluster's facts, read from the stack that built it."""

    name: str = Field(pattern=r"^([A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]+$")
    """``organization/project/stack`` (or ``project/stack`` with a self-managed backend)."""
    outputs: ClusterStackOutputs = Field(default_factory=ClusterStackOutputs)


ThroughputMode = Literal["elastic", "bursting", "provisioned"]
TransitionToIa = Literal[
    "AFTER_1_DAY",
    "AFTER_7_DAYS",
    "AFTER_14_DAYS",
    "AFTER_30_DAYS",
    "AFTER_60_DAYS",
    "AFTER_90_DAYS",
    "AFTER_180_DAYS",
    "AFTER_270_DAYS",
    "AFTER_365_DAYS",
]


class EfsConfig(Strict):
    """Settings of every EFS file system the stack creates."""

    kms_key_arn: str | None = Field(default=None, pattern=KMS_ARN)
    throughput_mode: ThroughputMode = "elastic"
    provisioned_throughput_mibps: float | None = Field(default=None, gt=0, le=10240)
    transition_to_ia: TransitionToIa | None = None

    @model_validator(mode="after")
    def _provisioned(self) -> Self:
        if (self.throughput_mode == "provisioned") != (self.provisioned_throughput_mibps is not None):
            raise KeyProblem(
                ["provisionedThroughputMibps"], "set it exactly when throughputMode is 'provisioned'"
            )
        return self


class CopyJobConfig(Strict):
    """The CronJob that copies images ECR cannot cache."""

    namespace: str | None = None
    """Defaults to ``image-mirror-<env>``."""
    schedule: str = "17 3 * * *"
    copier_image: ImageReference = "quay.io/skopeo/stable:v1.16.1"
    aws_cli_image: ImageReference = "public.ecr.aws/aws-cli/aws-cli:2.17.20"
    source_auth: SecretStr
    """Docker config JSON with the vendor registries' credentials (``pulumi config set --secret``)."""

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        if not CRON.match(value.strip()):
            raise ValueError("a cron schedule has five fields, e.g. '17 3 * * *'")
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str | None) -> str | None:
        if value is not None and not DNS_LABEL.match(value):
            raise ValueError("a namespace is a DNS label: lowercase letters, digits and '-'")
        return value


class EcrConfig(Strict):
    """The private ECR mirror of every image the stack runs."""

    enabled: bool = True
    prefix: str = Field(default="flow-platform", pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*$")
    kms_key_arn: str | None = Field(default=None, pattern=KMS_ARN)
    keep_tagged: int = Field(default=20, ge=1, le=1000)
    untagged_days: int = Field(default=7, ge=1, le=3650)
    mutable_tag_patterns: list[str] = Field(default_factory=list)
    credential_arns: dict[Literal["docker-hub", "ghcr"], str] = Field(default_factory=dict)
    copy_job: CopyJobConfig | None = None

    @field_validator("credential_arns")
    @classmethod
    def _arns(cls, value: dict[str, str]) -> dict[str, str]:
        for key, arn in value.items():
            if not re.match(SECRETS_MANAGER_ARN, arn):
                raise KeyProblem([key], "a Secrets Manager ARN whose name starts with ecr-pullthroughcache/")
        return value

    @field_validator("mutable_tag_patterns")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for i, pattern in enumerate(value):
            if not re.match(r"^[A-Za-z0-9._*-]{1,128}$", pattern) or pattern.count("*") > 2 or pattern == "*":
                raise KeyProblem([i], "letters, digits and ._-* with at most two wildcards, and not just '*'")
        return value


class AwsConfig(Strict):
    """The AWS account and cluster the stack stands on."""

    account_id: str = Field(pattern=ACCOUNT_ID)
    region: str = Field(pattern=REGION)
    cluster: ClusterFacts | None = None
    cluster_stack: ClusterStack | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    efs: EfsConfig | None = None
    ecr: EcrConfig | None = None

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, problem in aws_tag_problems(value, COMPONENT_TAGS):
            raise KeyProblem([key] if key is not None else [], problem)
        return value

    @model_validator(mode="after")
    def _one_cluster_source(self) -> Self:
        if (self.cluster is None) == (self.cluster_stack is None):
            raise KeyProblem(
                ["cluster"],
                "set exactly one of aws.cluster (vpcId, privateSubnetIds, nodeSecurityGroupId, "
                "oidcProviderArn, oidcProviderUrl) or aws.clusterStack (the stack that built the cluster)",
            )
        return self

    def mirror(self) -> EcrConfig | None:
        return self.ecr if self.ecr is not None and self.ecr.enabled else None
