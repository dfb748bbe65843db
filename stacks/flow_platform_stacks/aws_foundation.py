"""Compose the AWS foundations: the provider, the cluster's facts, the ECR mirror and EFS volumes."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pulumi
import pulumi_aws as aws
import yaml
from flow_platform.aws import (
    CopyJobSettings,
    EcrMirror,
    EcrMirrorArgs,
    EfsSharedVolume,
    EfsSharedVolumeArgs,
    ThroughputMode,
    mirror_uri,
)
from flow_platform.aws.documents import service_trust_policy
from flow_platform.aws.ecr_mirror import enhanced_scanning_rules
from flow_platform.aws.images import scoped_prefix

from . import PROJECT
from .config import AwsConfig, ClusterFacts
from .config.aws import BackupConfig
from .errors import ConfigError, Problem
from .namespaces import guarded_namespace, namespace_sizes
from .stackfile import other_stacks

if TYPE_CHECKING:
    from .config.stack import StackConfig

BACKUP_TAG = "flow-platform-backup-plan"
"""Tag on the file systems an env's AWS Backup plan selects."""

MIRROR_GUARDRAILS = namespace_sizes(
    request=("100m", "256Mi"), limit="1Gi", maximum=("1", "2Gi"), quota=("2", "2Gi", "4Gi"), pods=4, claims=0
)


def aws_provider(cfg: AwsConfig, env: str) -> aws.Provider:
    """The one AWS provider: pinned to the account, so a wrong profile fails instead of deploying."""
    return aws.Provider(
        "aws",
        region=cfg.region,
        allowed_account_ids=[cfg.account_id],
        default_tags={"tags": {**cfg.tags, "env": env, "project": "flow-platform", "managed-by": "pulumi"}},
    )


async def cluster_facts(stack: str, cfg: AwsConfig) -> ClusterFacts:
    """The cluster's facts, from config or read from the cluster stack's outputs.

    Read before anything else is registered, so a missing output is a config error naming it.
    """
    if cfg.cluster is not None:
        return cfg.cluster
    assert cfg.cluster_stack is not None
    reference = pulumi.StackReference(f"cluster-{cfg.cluster_stack.name}", stack_name=cfg.cluster_stack.name)
    names = cfg.cluster_stack.outputs
    values: dict[str, object] = {}
    problems: list[Problem] = []
    for field_name, info in type(names).model_fields.items():
        output_name = getattr(names, field_name)
        details = await reference.get_output_details(output_name)
        value = details.value if details.value is not None else details.secret_value
        if value is None:
            problems.append(
                Problem(
                    ("aws", "clusterStack", "outputs", info.alias or field_name),
                    f"stack {cfg.cluster_stack.name!r} has no output {output_name!r}: export it there,"
                    " or name the output that holds it",
                )
            )
        values[info.alias or field_name] = value
    if problems:
        raise ConfigError(stack, problems)
    try:
        return ClusterFacts.model_validate(values)
    except ValueError as error:
        raise ConfigError(
            stack,
            [Problem(("aws", "clusterStack", "name"), f"its outputs are not usable cluster facts: {error}")],
        ) from None


def cluster_mismatches(
    configured_issuer: str, issuer: str | None, endpoint: str | None, kube_server: str | None
) -> list[str]:
    """Why the configured cluster is not the one EKS describes or the kube context points at."""
    problems: list[str] = []
    if issuer is not None and issuer.removeprefix("https://") != configured_issuer.removeprefix("https://"):
        problems.append(f"the cluster's OIDC issuer is {issuer!r}, not oidcProviderUrl {configured_issuer!r}")
    if (
        endpoint is not None
        and kube_server is not None
        and endpoint.rstrip("/").lower() != kube_server.rstrip("/").lower()
    ):
        problems.append(
            f"the cluster's endpoint is {endpoint!r} but the kube context's server is {kube_server!r}:"
            " the stack would configure one cluster's IAM for another cluster's pods"
        )
    return problems


def kube_context_server(context: str | None) -> str | None:
    """The API server URL of ``context`` in the kubeconfig (``$KUBECONFIG``'s first file or
    ``~/.kube/config``), or None when it cannot be read."""
    if context is None:
        return None
    path = Path(os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or Path.home() / ".kube" / "config")
    try:
        doc = yaml.safe_load(path.read_text()) or {}
        [ctx] = [c["context"] for c in doc.get("contexts") or [] if c.get("name") == context]
        [cluster] = [c["cluster"] for c in doc.get("clusters") or [] if c.get("name") == ctx["cluster"]]
        server = cluster["server"]
    except (OSError, yaml.YAMLError, ValueError, KeyError, TypeError):
        return None
    return server if isinstance(server, str) else None


def check_cluster(stack: str, cfg: StackConfig, facts: ClusterFacts | None, provider: aws.Provider) -> None:
    """With ``aws.cluster.name``: the named EKS cluster's issuer and endpoint must be the
    configured ones (a config error otherwise). Registers nothing."""
    if facts is None or facts.name is None:
        return
    cluster = aws.eks.get_cluster(name=facts.name, opts=pulumi.InvokeOptions(provider=provider))
    identities = cluster.identities or []
    oidcs = identities[0].oidcs if identities else []
    issuer = oidcs[0].issuer if oidcs else None
    if issuer is None:
        pulumi.log.warn(f"cluster {facts.name!r}: no OIDC issuer to compare with oidcProviderUrl")
    server = kube_context_server(cfg.kubernetes.context)
    problems = cluster_mismatches(facts.oidc_provider_url, issuer, cluster.endpoint, server)
    if problems:
        raise ConfigError(stack, [Problem(("aws", "cluster", "name"), "; ".join(problems))])


@dataclass(frozen=True)
class RegistryUser:
    """A stack of this project that mirrors images into one account's registry in one region."""

    stack: str
    prefix: str
    scans: bool


@dataclass(frozen=True)
class RegistryPlan:
    """What this stack sets on its registry: the enhanced-scanning prefixes, when it owns that."""

    scan_prefixes: list[str]


def _registry_user(name: str, config: dict[str, Any]) -> tuple[tuple[str, str], RegistryUser] | None:
    """Another stack's registry (account, region) and its use of it; None for a stack without a mirror."""
    block = config.get(f"{PROJECT}:aws")
    if not isinstance(block, dict):
        return None
    ecr = block.get("ecr")
    if not isinstance(ecr, dict) or ecr.get("enabled") is False:
        return None
    env = str(config.get(f"{PROJECT}:environment", name))
    prefix = ecr.get("prefix")
    user = RegistryUser(
        name,
        scoped_prefix(prefix if isinstance(prefix, str) else None, env),
        ecr.get("registryScanning") is not None,
    )
    return (str(block["accountId"]), str(block["region"])), user


def _registry_users(
    project_dir: Path, stack: str, cfg: StackConfig
) -> dict[tuple[str, str], list[RegistryUser]]:
    """Every mirroring stack of the project by (account, region), this one from its validated config."""
    users: dict[tuple[str, str], list[RegistryUser]] = {}
    aws_cfg = cfg.aws
    mirror = aws_cfg.mirror() if aws_cfg is not None else None
    if aws_cfg is not None and mirror is not None:
        users.setdefault((aws_cfg.account_id, aws_cfg.region), []).append(
            RegistryUser(
                stack, scoped_prefix(mirror.prefix, cfg.environment), mirror.registry_scanning is not None
            )
        )
    for registry, others in other_stacks(
        project_dir, stack, "the shared ECR registry check", _registry_user, "no accountId/region"
    ).items():
        users.setdefault(registry, []).extend(others)
    return users


def registry_plan(project_dir: Path, stack: str, cfg: StackConfig) -> RegistryPlan:
    """Check the stacks sharing this stack's registry; say what this one sets on it.

    Two stacks with one prefix in one registry would share (and fight over) repositories, and
    the registry's scanning configuration is one document: at most one stack may own it, and it
    covers every stack's prefix. Read before anything is registered, like the Flink operator plan.
    """
    aws_cfg = cfg.aws
    mirror = aws_cfg.mirror() if aws_cfg is not None else None
    if aws_cfg is None or mirror is None:
        return RegistryPlan([])
    peers = _registry_users(project_dir, stack, cfg)[(aws_cfg.account_id, aws_cfg.region)]
    own = scoped_prefix(mirror.prefix, cfg.environment)
    problems: list[Problem] = []
    clash = sorted(p.stack for p in peers if p.prefix == own and p.stack != stack)
    if clash:
        problems.append(
            Problem(
                ("aws", "ecr", "prefix"),
                f"{own!r} is also the mirror prefix of stack {', '.join(clash)} in account"
                f" {aws_cfg.account_id} ({aws_cfg.region}): give each stack its own (the default is"
                " flow-platform-<env>)",
            )
        )
    owners = sorted(p.stack for p in peers if p.scans)
    if len(owners) > 1:
        problems.append(
            Problem(
                ("aws", "ecr", "registryScanning"),
                f"stacks {', '.join(owners)} all set the registry's scanning configuration in account"
                f" {aws_cfg.account_id} ({aws_cfg.region}): keep the block in exactly one of them",
            )
        )
    if problems:
        raise ConfigError(stack, problems)
    return RegistryPlan(sorted(p.prefix for p in peers) if mirror.registry_scanning is not None else [])


@dataclass
class Foundation:
    """What the systems need from AWS: cluster facts and where each image is pulled from."""

    cfg: AwsConfig | None
    facts: ClusterFacts | None
    images: dict[str, str]
    mirror: EcrMirror | None = None
    volumes: dict[str, EfsSharedVolume] = field(default_factory=dict)
    """The EFS volume of each system that has one (for the stack outputs)."""

    @property
    def copied_images(self) -> list[str]:
        """Logical images the copy job pushes before first use."""
        return self.mirror.copied_images if self.mirror is not None else []

    @property
    def images_copied(self) -> pulumi.Resource | None:
        """The one-shot copy Job of the current image list."""
        return self.mirror.images_copied if self.mirror is not None else None

    def image(self, logical: str) -> str:
        return self.images[logical]

    def after_images(self, opts: pulumi.ResourceOptions, *logical: str) -> pulumi.ResourceOptions:
        """``opts`` plus a dependency on the copy Job when any of ``logical`` is copied, so a
        workload is created (or rolled to a new tag) only once its image is in the mirror."""
        if self.images_copied is None or not set(logical) & set(self.copied_images):
            return opts
        return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[self.images_copied]))


def deploy(
    cfg: StackConfig,
    facts: ClusterFacts | None,
    opts: pulumi.ResourceOptions,
    registry: RegistryPlan | None = None,
) -> Foundation:
    """Register the ECR mirror (when enabled) and say which reference each image is pulled by."""
    upstream = cfg.images()
    aws_cfg = cfg.aws
    if aws_cfg is not None and aws_cfg.efs is not None and aws_cfg.efs.backup is not None:
        backup_plan(cfg.environment, aws_cfg.region, aws_cfg.efs.backup, cfg.protect, opts)
    mirror = aws_cfg.mirror() if aws_cfg is not None else None
    if aws_cfg is None or mirror is None or facts is None:
        return Foundation(aws_cfg, facts, upstream)
    prefix = scoped_prefix(mirror.prefix, cfg.environment)
    if registry is not None and registry.scan_prefixes and mirror.registry_scanning is not None:
        aws.ecr.RegistryScanningConfiguration(
            "registry-scanning",
            scan_type="ENHANCED",
            # plain snake_case dicts, which the SDK accepts for its Args types
            rules=cast(
                Any, enhanced_scanning_rules(registry.scan_prefixes, mirror.registry_scanning.frequency)
            ),
            opts=opts,
        )
    copy_settings: CopyJobSettings | None = None
    if mirror.copy_job is not None:
        namespace = mirror.copy_job.namespace or f"image-mirror-{cfg.environment}"
        guardrails = guarded_namespace(
            "image-mirror",
            namespace,
            "mirror",
            MIRROR_GUARDRAILS,
            opts,
            env=cfg.environment,
            protect=cfg.protect,
            pod_security_version=cfg.kubernetes.pod_security_version,
        )
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[guardrails]))
        copy_settings = {
            "namespace": namespace,
            "schedule": mirror.copy_job.schedule,
            "copier_image": mirror_uri(
                aws_cfg.account_id, aws_cfg.region, prefix, "skopeo", mirror.copy_job.copier_image
            ),
            "aws_cli_image": mirror_uri(
                aws_cfg.account_id, aws_cfg.region, prefix, "aws-cli", mirror.copy_job.aws_cli_image
            ),
            "endpoint_cidrs": mirror.copy_job.endpoint_cidrs,
            "source_auth": pulumi.Output.secret(mirror.copy_job.source_auth.get_secret_value()),
            "oidc_provider_arn": facts.oidc_provider_arn,
            "oidc_issuer": facts.oidc_provider_url,
        }
    mirror_args: EcrMirrorArgs = {
        "env": cfg.environment,
        "account_id": aws_cfg.account_id,
        "region": aws_cfg.region,
        "prefix": prefix,
        "images": upstream,
        "puller_role_arns": mirror.node_role_arns,
        "keep_tagged": mirror.keep_tagged,
        "untagged_days": mirror.untagged_days,
        "mutable_tag_patterns": mirror.mutable_tag_patterns,
        "credential_arns": {str(key): arn for key, arn in mirror.credential_arns.items()},
        "protect": cfg.protect,
        "tags": aws_cfg.tags,
    }
    if mirror.kms_key_arn:
        mirror_args["kms_key_arn"] = mirror.kms_key_arn
    if copy_settings is not None:
        mirror_args["copy_job"] = copy_settings
    ecr = EcrMirror("mirror", mirror_args, opts)
    images = {
        logical: mirror_uri(aws_cfg.account_id, aws_cfg.region, prefix, logical, ref)
        for logical, ref in upstream.items()
    }
    return Foundation(aws_cfg, facts, images, ecr)


def backup_rule(env: str, backup: BackupConfig) -> dict[str, Any]:
    """The plan's one rule: schedule and retention from config, into the env's vault."""
    lifecycle: dict[str, Any] = {"delete_after": backup.delete_after_days}
    if backup.cold_storage_after_days is not None:
        lifecycle["cold_storage_after"] = backup.cold_storage_after_days
    return {
        "rule_name": f"flow-platform-{env}-daily",
        "target_vault_name": f"flow-platform-{env}",
        "schedule": backup.schedule,
        "start_window": 60,
        "completion_window": 24 * 60,
        "lifecycle": lifecycle,
    }


def partition(region: str) -> str:
    """The ARN partition of a region."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def backup_plan(
    env: str, region: str, backup: BackupConfig, protect: bool, opts: pulumi.ResourceOptions
) -> aws.backup.Plan:
    """An AWS Backup vault, plan and selection of the env's file systems (by tag), with a role
    only AWS Backup can assume. The vault holds the recovery points: protected like the data."""
    vault = aws.backup.Vault(
        "efs-backup-vault",
        name=f"flow-platform-{env}",
        kms_key_arn=backup.vault_kms_key_arn,
        force_destroy=False,
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(protect=protect, retain_on_delete=True)
        ),
    )
    role = aws.iam.Role(
        "efs-backup-role",
        name=f"flow-platform-{env}-backup",
        assume_role_policy=service_trust_policy("backup.amazonaws.com"),
        opts=opts,
    )
    aws.iam.RolePolicyAttachment(
        "efs-backup-role-policy",
        role=role.name,
        policy_arn=f"arn:{partition(region)}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
        opts=opts,
    )
    rule = backup_rule(env, backup)
    plan = aws.backup.Plan(
        "efs-backup-plan",
        name=f"flow-platform-{env}-efs",
        rules=[cast(Any, {**rule, "target_vault_name": vault.name})],
        opts=opts,
    )
    aws.backup.Selection(
        "efs-backup-selection",
        name=f"flow-platform-{env}-efs",
        plan_id=plan.id,
        iam_role_arn=role.arn,
        selection_tags=[{"type": "STRINGEQUALS", "key": BACKUP_TAG, "value": env}],
        opts=opts,
    )
    return plan


def shared_volume(
    name: str,
    env: str,
    protect: bool,
    foundation: Foundation,
    system: str,
    namespace: str,
    claim_name: str,
    size: str,
    opts: pulumi.ResourceOptions,
    uid: int | None = None,
) -> EfsSharedVolume:
    """An EFS-backed ReadWriteMany claim for ``system`` in ``namespace``, owned by ``uid`` (the UID
    its pods write as, which the component exposes; the same GID) or by the volume's default."""
    aws_cfg, facts = foundation.cfg, foundation.facts
    assert aws_cfg is not None and aws_cfg.efs is not None and facts is not None
    efs = aws_cfg.efs
    args: EfsSharedVolumeArgs = {
        "env": env,
        "system": system,
        "vpc_id": facts.vpc_id,
        "subnet_ids": facts.private_subnet_ids,
        "node_security_group_id": facts.node_security_group_id,
        "throughput_mode": ThroughputMode(efs.throughput_mode),
        "namespace": namespace,
        "claim_name": claim_name,
        "root_path": f"/{system}/{claim_name}",
        "capacity": size,
        "protect": protect,
        "tags": {**aws_cfg.tags, **({BACKUP_TAG: env} if efs.backup is not None else {})},
    }
    if uid is not None:
        args["uid"] = args["gid"] = uid
    if efs.kms_key_arn:
        args["kms_key_arn"] = efs.kms_key_arn
    if efs.provisioned_throughput_mibps is not None:
        args["provisioned_throughput_mibps"] = efs.provisioned_throughput_mibps
    if efs.transition_to_ia is not None:
        args["transition_to_ia"] = efs.transition_to_ia
    volume = EfsSharedVolume(name, args, opts)
    foundation.volumes[system] = volume
    return volume
