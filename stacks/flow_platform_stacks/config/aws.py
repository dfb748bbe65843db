"""The ``flow-platform:aws`` block: account, cluster facts, EFS and the ECR mirror."""

import re
from typing import Literal, Self

from flow_platform import validation
from flow_platform.aws import ecr_mirror as mirror_defaults
from flow_platform.aws import efs_shared_volume as efs_defaults
from flow_platform.aws import image_copy_job as copy_defaults
from flow_platform.aws.efs_shared_volume import TransitionToIa
from flow_platform.aws.images import max_prefix_length
from pydantic import Field, SecretStr, field_validator, model_validator

from ..errors import KeyProblem
from .base import DNS_LABEL, ImageReference, Strict, check_cidrs
from .rules import aws_tag_problems

ACCOUNT_ID = validation.AWS_ACCOUNT_ID.pattern
REGION = validation.AWS_REGION.pattern
KMS_KEY_ARN = re.compile(
    r"^arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):\d{12}:key/"
    r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
IAM_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
ECR_PREFIX = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*$")


def check_kms_key_arn(value: str | None) -> str | None:
    """A key ARN, never an alias: EFS ``kmsKeyId`` and ECR ``kmsKey`` are create-only and AWS
    reads back the key ARN, so an alias would show a diff, and a replacement, on every update."""
    if value is None or KMS_KEY_ARN.match(value):
        return value
    if ":alias/" in value:
        raise ValueError(
            "an alias ARN would replace the file system or repositories on every update (AWS stores"
            " the key ARN): give the key ARN, from"
            f" `aws kms describe-key --key-id {value} --query KeyMetadata.Arn`"
        )
    raise ValueError("a KMS key ARN: arn:aws:kms:<region>:<account>:key/<key id>")


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
    name: str | None = Field(default=None, pattern=r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
    """The EKS cluster's name: when given, its OIDC issuer is read (``eks:DescribeCluster``) and
    must be ``oidcProviderUrl``, and its endpoint the kube context's server."""

    @field_validator("private_subnet_ids")
    @classmethod
    def _subnets(cls, value: list[str]) -> list[str]:
        for i, subnet in enumerate(value):
            if not re.match(r"^subnet-[0-9a-f]{8,17}$", subnet):
                raise KeyProblem([i], f"{subnet!r} is not a subnet id (subnet-0123456789abcdef0)")
        if len(set(value)) != len(value):
            raise ValueError("a subnet is listed twice")
        return sorted(value)

    @model_validator(mode="after")
    def _one_issuer(self) -> Self:
        problem = oidc_mismatch(self.oidc_provider_arn, self.oidc_provider_url)
        if problem:
            raise KeyProblem(["oidcProviderUrl"], problem)
        return self


def oidc_mismatch(provider_arn: str, issuer_url: str) -> str | None:
    """Why an IAM OIDC provider ARN and an issuer URL are not the same cluster's, or None.

    The provider ARN is ``arn:aws:iam::<account>:oidc-provider/<issuer without https://>``
    (https://docs.aws.amazon.com/eks/latest/userguide/enable-iam-roles-for-service-accounts.html):
    a role trusting one and a token from the other never match, and IRSA fails at run time.
    """
    provider = provider_arn.split(":oidc-provider/", 1)[-1]
    issuer = issuer_url.removeprefix("https://")
    if provider != issuer:
        return (
            f"{issuer_url!r} is not the issuer of oidcProviderArn ({provider!r}): both must name one cluster"
        )
    return None


def eks_issuer_id(issuer_url: str) -> str:
    """The cluster id at the end of an EKS issuer URL."""
    return issuer_url.rstrip("/").rsplit("/id/", 1)[-1]


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

AWS_CRON = re.compile(r"^cron\((\S+\s+){5}\S+\)$")


class BackupConfig(Strict):
    """An AWS Backup plan for the stack's file systems, beyond EFS's automatic daily backups."""

    schedule: str = "cron(0 5 * * ? *)"
    """AWS cron expression (six fields, UTC)."""
    delete_after_days: int = Field(default=35, ge=1, le=36500)
    cold_storage_after_days: int | None = Field(default=None, ge=1, le=36500)
    vault_kms_key_arn: str | None = None

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        if not AWS_CRON.match(value):
            raise ValueError("an AWS Backup schedule is cron(...) with six fields, e.g. 'cron(0 5 * * ? *)'")
        return value

    @field_validator("vault_kms_key_arn")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        return check_kms_key_arn(value)

    @model_validator(mode="after")
    def _retention(self) -> Self:
        # AWS Backup: recovery points in cold storage stay there at least 90 days
        cold = self.cold_storage_after_days
        if cold is not None and self.delete_after_days < cold + 90:
            raise KeyProblem(["deleteAfterDays"], f"must be at least coldStorageAfterDays + 90 ({cold + 90})")
        return self


class EfsConfig(Strict):
    """Settings of every EFS file system the stack creates."""

    kms_key_arn: str | None = None
    throughput_mode: ThroughputMode = efs_defaults.DEFAULT_THROUGHPUT_MODE  # type: ignore[assignment]
    provisioned_throughput_mibps: float | None = Field(default=None, gt=0, le=10240)
    transition_to_ia: TransitionToIa | None = None
    backup: BackupConfig | None = None
    """Required where ``protect`` is true (uat, prd)."""

    @field_validator("kms_key_arn")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        return check_kms_key_arn(value)

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
    schedule: str = copy_defaults.DEFAULT_SCHEDULE
    copier_image: ImageReference = "quay.io/skopeo/stable:v1.16.1"
    aws_cli_image: ImageReference = "public.ecr.aws/aws-cli/aws-cli:2.17.20"
    source_auth: SecretStr
    """Docker config JSON with the vendor registries' credentials (``pulumi config set --secret``)."""
    endpoint_cidrs: list[str] = Field(default_factory=list)
    """CIDRs of the VPC interface endpoints (ECR api and dkr, STS) of a private cluster."""

    @field_validator("endpoint_cidrs")
    @classmethod
    def _endpoints(cls, value: list[str]) -> list[str]:
        return check_cidrs(value)

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


ScanFrequency = Literal["CONTINUOUS_SCAN", "SCAN_ON_PUSH"]


class RegistryScanningConfig(Strict):
    """Amazon Inspector enhanced scanning, set on the account's registry in this region.

    One document per registry: exactly one stack per account and region may hold this block,
    and it covers the mirror prefixes of every stack of the project in that registry.
    """

    frequency: ScanFrequency = "CONTINUOUS_SCAN"


class EcrConfig(Strict):
    """The private ECR mirror of every image the stack runs."""

    enabled: bool = True
    prefix: str | None = None
    """Defaults to ``flow-platform-<env>``: two environments in one account never share names."""
    kms_key_arn: str | None = None
    node_role_arns: list[str] = Field(default_factory=list)
    """The node groups' IAM roles, granted the pull-through cache's first pull
    (``ecr:BatchImportUpstreamImage``) on the mirror's repositories."""
    registry_scanning: RegistryScanningConfig | None = None
    keep_tagged: int = Field(default=mirror_defaults.DEFAULT_KEEP_TAGGED, ge=1, le=1000)
    untagged_days: int = Field(default=mirror_defaults.DEFAULT_UNTAGGED_DAYS, ge=1, le=3650)
    mutable_tag_patterns: list[str] = Field(default_factory=list)
    credential_arns: dict[Literal["docker-hub", "ghcr"], str] = Field(default_factory=dict)
    copy_job: CopyJobConfig | None = None

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is None:
            return value
        longest = max_prefix_length()
        if not ECR_PREFIX.match(value) or len(value) > longest:
            raise ValueError(
                f"at most {longest} lowercase letters, digits and ._- (pull-through cache rule prefixes"
                " '<prefix>-<upstream>' are limited to 2-30 characters)"
            )
        return value

    @field_validator("kms_key_arn")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        return check_kms_key_arn(value)

    @field_validator("node_role_arns")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        for i, arn in enumerate(value):
            if not IAM_ROLE_ARN.match(arn):
                raise KeyProblem([i], "an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
        return sorted(value)

    @model_validator(mode="after")
    def _pullers(self) -> Self:
        if self.enabled and not self.node_role_arns:
            raise KeyProblem(
                ["nodeRoleArns"],
                "required: the node groups' IAM role ARNs, granted ecr:BatchImportUpstreamImage so the"
                " first pull through a cache rule works (AmazonEC2ContainerRegistryReadOnly lacks it)",
            )
        return self

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

    @model_validator(mode="after")
    def _same_account_and_region(self) -> Self:
        cluster = self.cluster
        if cluster is not None and f"::{self.account_id}:" not in cluster.oidc_provider_arn:
            raise KeyProblem(["cluster", "oidcProviderArn"], f"is not in account {self.account_id}")
        if cluster is not None and f".{self.region}." not in cluster.oidc_provider_url:
            raise KeyProblem(["cluster", "oidcProviderUrl"], f"is not a cluster in {self.region}")
        keys = (
            (["efs", "kmsKeyArn"], self.efs.kms_key_arn if self.efs else None),
            (["ecr", "kmsKeyArn"], self.ecr.kms_key_arn if self.ecr else None),
        )
        for path, arn in keys:
            match = KMS_KEY_ARN.match(arn) if arn else None
            if match and match["region"] != self.region:
                raise KeyProblem(
                    path, f"the key is in {match['region']}; EFS and ECR need one in {self.region}"
                )
        return self

    def mirror(self) -> EcrConfig | None:
        return self.ecr if self.ecr is not None and self.ecr.enabled else None
