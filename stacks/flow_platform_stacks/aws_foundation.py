"""Compose the AWS foundations: the provider, the cluster's facts, the ECR mirror and EFS volumes."""

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
from flow_platform.aws import (
    CopyJobSettings,
    EcrMirror,
    EcrMirrorArgs,
    EfsSharedVolume,
    EfsSharedVolumeArgs,
    ThroughputMode,
    mirror_uri,
)

from .config import AwsConfig, ClusterFacts, StackConfig
from .errors import ConfigError, Problem
from .namespaces import guarded_namespace, namespace_sizes

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


@dataclass
class Foundation:
    """What the systems need from AWS: cluster facts and where each image is pulled from."""

    cfg: AwsConfig | None
    facts: ClusterFacts | None
    images: dict[str, str]
    mirror: EcrMirror | None = None
    volumes: dict[str, EfsSharedVolume] = field(default_factory=dict)
    """The EFS volume of each system that has one (for the stack outputs)."""

    def image(self, logical: str) -> str:
        return self.images[logical]


def deploy(cfg: StackConfig, facts: ClusterFacts | None, opts: pulumi.ResourceOptions) -> Foundation:
    """Register the ECR mirror (when enabled) and say which reference each image is pulled by."""
    upstream = cfg.images()
    aws_cfg = cfg.aws
    mirror = aws_cfg.mirror() if aws_cfg is not None else None
    if aws_cfg is None or mirror is None or facts is None:
        return Foundation(aws_cfg, facts, upstream)
    copy_settings: CopyJobSettings | None = None
    if mirror.copy_job is not None:
        namespace = mirror.copy_job.namespace or f"image-mirror-{cfg.environment}"
        guardrails = guarded_namespace("image-mirror", cfg, namespace, "mirror", MIRROR_GUARDRAILS, opts)
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[guardrails]))
        copy_settings = {
            "namespace": namespace,
            "schedule": mirror.copy_job.schedule,
            "copier_image": mirror_uri(
                aws_cfg.account_id, aws_cfg.region, mirror.prefix, "skopeo", mirror.copy_job.copier_image
            ),
            "aws_cli_image": mirror_uri(
                aws_cfg.account_id, aws_cfg.region, mirror.prefix, "aws-cli", mirror.copy_job.aws_cli_image
            ),
            "source_auth": pulumi.Output.secret(mirror.copy_job.source_auth.get_secret_value()),
            "oidc_provider_arn": facts.oidc_provider_arn,
            "oidc_issuer": facts.oidc_provider_url,
        }
    mirror_args: EcrMirrorArgs = {
        "env": cfg.environment,
        "account_id": aws_cfg.account_id,
        "region": aws_cfg.region,
        "prefix": mirror.prefix,
        "images": upstream,
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
        logical: mirror_uri(aws_cfg.account_id, aws_cfg.region, mirror.prefix, logical, ref)
        for logical, ref in upstream.items()
    }
    return Foundation(aws_cfg, facts, images, ecr)


def shared_volume(
    name: str,
    cfg: StackConfig,
    foundation: Foundation,
    system: str,
    namespace: str,
    claim_name: str,
    size: str,
    opts: pulumi.ResourceOptions,
) -> EfsSharedVolume:
    """An EFS-backed ReadWriteMany claim for ``system`` in ``namespace``."""
    aws_cfg, facts = foundation.cfg, foundation.facts
    assert aws_cfg is not None and aws_cfg.efs is not None and facts is not None
    efs = aws_cfg.efs
    args: EfsSharedVolumeArgs = {
        "env": cfg.environment,
        "system": system,
        "vpc_id": facts.vpc_id,
        "subnet_ids": facts.private_subnet_ids,
        "node_security_group_id": facts.node_security_group_id,
        "throughput_mode": ThroughputMode(efs.throughput_mode),
        "namespace": namespace,
        "claim_name": claim_name,
        "root_path": f"/{system}/{claim_name}",
        "uid": 1000,
        "gid": 1000,
        "capacity": size,
        "protect": cfg.protect,
        "tags": aws_cfg.tags,
    }
    if efs.kms_key_arn:
        args["kms_key_arn"] = efs.kms_key_arn
    if efs.provisioned_throughput_mibps is not None:
        args["provisioned_throughput_mibps"] = efs.provisioned_throughput_mibps
    if efs.transition_to_ia is not None:
        args["transition_to_ia"] = efs.transition_to_ia
    volume = EfsSharedVolume(name, args, opts)
    foundation.volumes[system] = volume
    return volume
