"""A private ECR copy of every image the stack runs."""

from typing import Any, Required, TypedDict

import pulumi
import pulumi_aws as aws

from .. import PACKAGE
from .. import validation as v
from ..k8s.storage import stateful_options
from .documents import lifecycle_policy, pull_through_import_policy
from .image_copy_job import DEFAULT_SCHEDULE, ImageCopyJob
from .images import CACHEABLE, ImageRef, cache_prefix, mirror_repository, mirror_uri, needs_copy

DEFAULT_PREFIX = "flow-platform"
DEFAULT_KEEP_TAGGED = 20
DEFAULT_UNTAGGED_DAYS = 7


class CopyJobSettings(TypedDict, total=False):
    """Settings of the CronJob that copies images ECR cannot cache."""

    namespace: Required[pulumi.Input[str]]
    """Namespace the copy CronJob runs in."""
    schedule: str
    """Cron schedule. Default: ``17 3 * * *``."""
    copier_image: Required[str]
    """skopeo image (upstream reference; pulled through the mirror itself when cacheable)."""
    aws_cli_image: Required[str]
    """AWS CLI image, likewise."""
    source_auth: Required[pulumi.Input[str]]
    """Docker config JSON for the source registries (a secret)."""
    oidc_provider_arn: Required[pulumi.Input[str]]
    """The cluster's IAM OIDC provider ARN."""
    oidc_issuer: Required[pulumi.Input[str]]
    """The cluster's OIDC issuer URL."""
    endpoint_cidrs: list[str]
    """CIDRs of the VPC interface endpoints (ECR, STS) a private cluster reaches AWS through.
    Default: none."""


class EcrMirrorArgs(TypedDict, total=False):
    """Inputs of :class:`EcrMirror`."""

    env: Required[str]
    """Environment (tags, names)."""
    account_id: Required[str]
    """The AWS account that owns the mirror (12 digits)."""
    region: Required[str]
    """The mirror's region."""
    prefix: str
    """Repository name prefix, unique per environment in an account (the stacks use
    ``flow-platform-<env>`` unless configured). Default: ``flow-platform``."""
    images: Required[dict[str, str]]
    """Logical image name -> upstream reference with tag
    (e.g. ``partek-flow`` -> ``registry.partek.com/rtw:23.0809.22``)."""
    kms_key_arn: pulumi.Input[str]
    """Customer KMS key for the repositories. Default: none (AES256)."""
    keep_tagged: int
    """How many tagged images each repository keeps. Default: ``20``."""
    untagged_days: int
    """Days after which untagged images expire. Default: ``7``."""
    mutable_tag_patterns: list[str]
    """Tags that may move (e.g. ``current-*``), excluded from tag immutability. Default: none."""
    credential_arns: dict[str, pulumi.Input[str]]
    """Secrets Manager ARNs for upstreams that need credentials (``docker-hub``, ``ghcr``).
    Default: none."""
    puller_role_arns: list[str]
    """IAM roles that pull (the node roles): granted ``ecr:BatchImportUpstreamImage`` on the
    pull-through repositories. Default: none (no grant here: the roles' own policies must have it)."""
    copy_job: CopyJobSettings
    """Settings of the copy CronJob, needed when an image's registry cannot be cached. Default: none."""
    protect: bool
    """Protect the repositories (prd). Default: ``false``."""
    tags: dict[str, str]
    """AWS tags. Default: none."""


ARGS = v.ArgsSpec(
    "EcrMirror",
    EcrMirrorArgs,
    {
        "env": v.label_value,
        "account_id": v.aws_account_id,
        "region": v.aws_region,
        "prefix": v.repository_prefix,
        "images": v.map_of(v.image_reference, keys=v.dns_label),
        "kms_key_arn": v.arn,
        "keep_tagged": v.positive_int,
        "untagged_days": v.positive_int,
        "mutable_tag_patterns": v.list_of(v.non_empty_text),
        "credential_arns": v.map_of(v.arn, keys=v.non_empty_text),
        "copy_job": v.ArgsSpec(
            "CopyJobSettings",
            CopyJobSettings,
            {
                "namespace": v.namespace_name,
                "schedule": v.cron_schedule,
                "copier_image": v.image_reference,
                "aws_cli_image": v.image_reference,
                "source_auth": v.non_empty_text,
                "oidc_provider_arn": v.arn,
                "oidc_issuer": v.non_empty_text,
                "endpoint_cidrs": v.list_of(v.cidr),
            },
        ),
        "puller_role_arns": v.list_of(v.arn),
        "protect": v.boolean,
        "tags": v.map_of(v.text, keys=v.non_empty_text),
    },
)


def repository_settings(
    kms_key_arn: pulumi.Input[str] | None, mutable_tag_patterns: list[str]
) -> dict[str, Any]:
    """Scan on push, immutable tags (with the exclusion form for moving tags), encryption."""
    settings: dict[str, Any] = {
        "image_scanning_configuration": {"scan_on_push": True},
        "image_tag_mutability": "IMMUTABLE",
        "encryption_configurations": [
            {"encryption_type": "KMS", "kms_key": kms_key_arn}
            if kms_key_arn
            else {"encryption_type": "AES256"}
        ],
        "force_delete": False,
    }
    if mutable_tag_patterns:
        settings["image_tag_mutability"] = "IMMUTABLE_WITH_EXCLUSION"
        settings["image_tag_mutability_exclusion_filters"] = [
            {"filter": pattern, "filter_type": "WILDCARD"} for pattern in sorted(mutable_tag_patterns)
        ]
    return settings


SCAN_FREQUENCIES = ("SCAN_ON_PUSH", "CONTINUOUS_SCAN")


def enhanced_scanning_rules(prefixes: list[str], frequency: str) -> list[dict[str, Any]]:
    """Registry scanning rules: Amazon Inspector enhanced scanning of the repositories under
    ``prefixes`` (wildcard filters). https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-enhanced.html
    """
    if frequency not in SCAN_FREQUENCIES:
        raise ValueError(f"scan frequency {frequency!r} is not one of {', '.join(SCAN_FREQUENCIES)}")
    if not prefixes:
        raise ValueError("enhanced scanning needs at least one repository prefix")
    return [
        {
            "scan_frequency": frequency,
            "repository_filters": [
                {"filter": f"{prefix}*", "filter_type": "WILDCARD"} for prefix in sorted(set(prefixes))
            ],
        }
    ]


class EcrMirror(pulumi.ComponentResource):
    """One repository per image, pull-through cache rules for the upstreams ECR can cache, and a
    copy Job and CronJob for the rest. ``image_uris`` maps each logical image to what workloads
    pull; ``copied_images`` and :attr:`images_copied` say what to wait for before using them."""

    image_uris: pulumi.Output[dict[str, str]]
    """Logical image name -> mirror reference with tag."""
    repository_urls: pulumi.Output[dict[str, str]]
    """Logical image name -> repository URL."""

    def __init__(self, name: str, args: EcrMirrorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:EcrMirror", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stateful = stateful_options(child, args.get("protect", False))
        env, account, region = args["env"], args["account_id"], args["region"]
        prefix = args.get("prefix", DEFAULT_PREFIX)
        tags = {**args.get("tags", {}), "env": env, "managed-by": "pulumi"}
        settings = repository_settings(args.get("kms_key_arn"), args.get("mutable_tag_patterns", []))
        policy = lifecycle_policy(
            args.get("keep_tagged", DEFAULT_KEEP_TAGGED), args.get("untagged_days", DEFAULT_UNTAGGED_DAYS)
        )

        repositories: dict[str, aws.ecr.Repository] = {}
        for logical, ref in sorted(args["images"].items()):
            repository = aws.ecr.Repository(
                f"{name}-{logical}",
                name=mirror_repository(prefix, logical, ref),
                tags={**tags, "image": logical},
                opts=stateful,
                **settings,
            )
            aws.ecr.LifecyclePolicy(
                f"{name}-{logical}-lifecycle", repository=repository.name, policy=policy, opts=child
            )
            repositories[logical] = repository

        pullers = args.get("puller_role_arns", [])
        prerequisites: list[pulumi.Resource] = list(repositories.values())
        for logical, ref in sorted(args["images"].items()):
            if pullers and not needs_copy(ref):
                policy_resource = aws.ecr.RepositoryPolicy(
                    f"{name}-{logical}-import",
                    repository=repositories[logical].name,
                    policy=pull_through_import_policy(pullers),
                    opts=child,
                )
                prerequisites.append(policy_resource)

        cached = {
            CACHEABLE[ImageRef.parse(ref).registry] for ref in args["images"].values() if not needs_copy(ref)
        }
        upstreams = [(u.key, u) for u in sorted(cached, key=lambda u: u.key)]
        credentials = args.get("credential_arns", {})
        for key, upstream in upstreams:
            if upstream.needs_credentials and key not in credentials:
                raise ValueError(
                    f"the {key} pull-through cache needs a credential ARN (credential_arns[{key!r}])"
                )
            rule = aws.ecr.PullThroughCacheRule(
                f"{name}-cache-{key}",
                ecr_repository_prefix=cache_prefix(prefix, upstream),
                upstream_registry_url=upstream.upstream_url,
                credential_arn=credentials.get(key) if upstream.needs_credentials else None,
                opts=child,
            )
            prerequisites.append(rule)

        copies = {logical: ref for logical, ref in args["images"].items() if needs_copy(ref)}
        # plain attributes for Python callers, not outputs: the logical names the copy job pushes,
        # and its one-shot Job of the current image list (None when nothing is copied)
        self.copied_images: list[str] = sorted(copies)
        self.images_copied: pulumi.Resource | None = None
        if copies:
            job = args.get("copy_job")
            if job is None:
                raise ValueError(f"images {sorted(copies)} need the copy job (copy_job settings)")
            copy_job = ImageCopyJob(
                f"{name}-copy",
                {
                    "env": env,
                    "namespace": job["namespace"],
                    "region": region,
                    "copies": [
                        {"source": ref, "target": mirror_uri(account, region, prefix, logical, ref)}
                        for logical, ref in copies.items()
                    ],
                    "repository_arns": [repositories[logical].arn for logical in sorted(copies)],
                    "oidc_provider_arn": job["oidc_provider_arn"],
                    "oidc_issuer": job["oidc_issuer"],
                    "schedule": job.get("schedule", DEFAULT_SCHEDULE),
                    "copier_image": job["copier_image"],
                    "aws_cli_image": job["aws_cli_image"],
                    "source_auth": job["source_auth"],
                    "endpoint_cidrs": job.get("endpoint_cidrs", []),
                    "tags": tags,
                },
                # the copy job's own images are pulled through the caches: import rights first
                pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=prerequisites)),
            )
            self.images_copied = copy_job.copied

        self.image_uris = pulumi.Output.from_input(
            {
                logical: mirror_uri(account, region, prefix, logical, ref)
                for logical, ref in args["images"].items()
            }
        )
        self.repository_urls = pulumi.Output.all(
            **{logical: repo.repository_url for logical, repo in repositories.items()}
        )
        self.register_outputs({"image_uris": self.image_uris, "repository_urls": self.repository_urls})
