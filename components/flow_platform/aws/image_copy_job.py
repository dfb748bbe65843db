"""A CronJob that copies images ECR cannot cache (vendor registries) into the mirror."""

from typing import Any, Required, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .. import PACKAGE
from .. import validation as v
from ..k8s.labels import selector_labels, standard_labels
from ..k8s.network import dns_egress_spec, egress_spec, network_policy, ports
from ..k8s.resources import container_resources
from ..k8s.security import restricted_container_security_context, restricted_pod_security_context
from .documents import ecr_push_policy, irsa_trust_policy

NAME = "image-copy"
SERVICE_ACCOUNT = "image-copy"
COPY_UID = 65532
PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]

COPY_SCRIPT = """\
set -eu
password="$(cat /auth/ecr-password)"
while read -r source target; do
  [ -n "$source" ] || continue
  if skopeo inspect --creds "AWS:${password}" "docker://${target}" >/dev/null 2>&1; then
    echo "already mirrored: ${target}"
    continue
  fi
  echo "copying ${source} -> ${target}"
  skopeo copy --all --retry-times 3 --authfile /source-auth/.dockerconfigjson \\
    --dest-creds "AWS:${password}" "docker://${source}" "docker://${target}"
done < /config/images
"""


DEFAULT_SCHEDULE = "17 3 * * *"


class ImageCopy(TypedDict):
    """One image to copy into the mirror."""

    source: str
    """The upstream reference, pinned."""
    target: str
    """The mirror reference it is copied to."""


class ImageCopyJobArgs(TypedDict, total=False):
    """Inputs of :class:`ImageCopyJob`."""

    env: Required[str]
    """Environment (labels, role name)."""
    namespace: Required[pulumi.Input[str]]
    """Namespace the CronJob runs in."""
    region: Required[str]
    """AWS region of the mirror."""
    copies: Required[list[ImageCopy]]
    """The images to copy: source and mirror reference of each."""
    repository_arns: Required[list[pulumi.Input[str]]]
    """The repositories the job may push to, and nothing else."""
    oidc_provider_arn: Required[pulumi.Input[str]]
    """The cluster's IAM OIDC provider."""
    oidc_issuer: Required[pulumi.Input[str]]
    """Its issuer URL (with or without ``https://``)."""
    schedule: str
    """Cron schedule. Default: ``17 3 * * *``."""
    copier_image: Required[pulumi.Input[str]]
    """skopeo image, pinned."""
    aws_cli_image: Required[pulumi.Input[str]]
    """AWS CLI image, pinned (fetches the ECR login token)."""
    source_auth: Required[pulumi.Input[str]]
    """Docker config JSON with the source registries' credentials, a secret."""
    tags: dict[str, str]
    """AWS tags. Default: none."""


ARGS = v.ArgsSpec(
    "ImageCopyJob",
    ImageCopyJobArgs,
    {
        "env": v.label_value,
        "namespace": v.namespace_name,
        "region": v.aws_region,
        "copies": v.list_of(
            v.ArgsSpec("ImageCopy", ImageCopy, {"source": v.image_reference, "target": v.image_reference}),
            min_length=1,
        ),
        "repository_arns": v.list_of(v.non_empty_text, min_length=1),
        "oidc_provider_arn": v.arn,
        "oidc_issuer": v.non_empty_text,
        "schedule": v.cron_schedule,
        "copier_image": v.image_reference,
        "aws_cli_image": v.image_reference,
        "source_auth": v.non_empty_text,
        "tags": v.map_of(v.text, keys=v.non_empty_text),
    },
)


class ImageCopyJob(pulumi.ComponentResource):
    """Copies configured tags with skopeo, as a non-root pod whose IAM role (IRSA, trust pinned to
    this service account's ``sub`` and ``aud``) may push only to the mirrored repositories."""

    role_arn: pulumi.Output[str]
    """The job's IAM role."""

    def __init__(self, name: str, args: ImageCopyJobArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:ImageCopyJob", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        env, namespace = args["env"], args["namespace"]
        labels = standard_labels(NAME, env, "mirror", component="image-copy")
        selector = selector_labels(NAME, env)

        role = aws.iam.Role(
            f"{name}-role",
            name=f"flow-platform-{env}-image-copy",
            description="Pushes copies of vendor images into the flow-platform ECR mirror",
            assume_role_policy=pulumi.Output.all(
                args["oidc_provider_arn"], args["oidc_issuer"], namespace
            ).apply(lambda a: irsa_trust_policy(a[0], a[1], a[2], SERVICE_ACCOUNT)),
            max_session_duration=3600,
            tags=args.get("tags", {}),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-push",
            role=role.id,
            policy=pulumi.Output.all(*args["repository_arns"]).apply(
                lambda arns: ecr_push_policy(list(arns))
            ),
            opts=child,
        )
        account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata={
                "name": SERVICE_ACCOUNT,
                "namespace": namespace,
                "labels": labels,
                "annotations": {"eks.amazonaws.com/role-arn": role.arn},
            },
            automount_service_account_token=False,
            opts=child,
        )
        k8s.core.v1.Secret(
            f"{name}-source-auth",
            metadata={"name": "source-registry-auth", "namespace": namespace, "labels": labels},
            type="kubernetes.io/dockerconfigjson",
            string_data={".dockerconfigjson": pulumi.Output.secret(args["source_auth"])},
            opts=child,
        )
        copies = sorted((copy["source"], copy["target"]) for copy in args["copies"])
        images = "".join(f"{source} {target}\n" for source, target in copies)
        k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata={"name": "image-copy", "namespace": namespace, "labels": labels},
            data={"images": images, "copy.sh": COPY_SCRIPT},
            opts=child,
        )
        cron_spec: Any = {
            "schedule": args.get("schedule", DEFAULT_SCHEDULE),
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": copy_job_template(args, labels),
        }
        k8s.batch.v1.CronJob(
            f"{name}-cronjob",
            metadata={"name": NAME, "namespace": namespace, "labels": labels},
            spec=cron_spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[account]),  # its pods run as it
        )
        internet_https = [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_RANGES}}]
        network_policy(
            f"{name}-allow-registries",
            namespace,
            "image-copy-allow-registries",
            # ECR, STS and the source registries are public HTTPS endpoints with changing addresses
            egress_spec(selector, internet_https, ports(443)),
            labels,
            child,
        )
        network_policy(
            f"{name}-allow-dns", namespace, "image-copy-allow-dns", dns_egress_spec(selector), labels, child
        )
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})


def copy_job_template(args: ImageCopyJobArgs, labels: dict[str, str]) -> dict[str, Any]:
    """The Job each schedule runs: an init container logs in to ECR, skopeo copies."""
    region = args["region"]
    tmp_mounts: list[dict[str, Any]] = [
        {"name": "tmp", "mountPath": "/tmp"},
        {"name": "var-tmp", "mountPath": "/var/tmp"},
    ]
    login: dict[str, Any] = {
        "name": "ecr-login",
        "image": args["aws_cli_image"],
        "command": ["sh", "-c", f"aws ecr get-login-password --region {region} > /auth/ecr-password"],
        "env": [{"name": "HOME", "value": "/tmp"}, {"name": "AWS_REGION", "value": region}],
        "resources": container_resources("100m", "256Mi", "256Mi"),
        "securityContext": restricted_container_security_context(),
        "volumeMounts": [{"name": "auth", "mountPath": "/auth"}, *tmp_mounts],
    }
    copy: dict[str, Any] = {
        "name": "copy",
        "image": args["copier_image"],
        "command": ["sh", "/config/copy.sh"],
        "env": [{"name": "HOME", "value": "/tmp"}],
        "resources": container_resources("250m", "512Mi", "1Gi"),
        "securityContext": restricted_container_security_context(),
        "volumeMounts": [
            {"name": "auth", "mountPath": "/auth", "readOnly": True},
            {"name": "source-auth", "mountPath": "/source-auth", "readOnly": True},
            {"name": "config", "mountPath": "/config", "readOnly": True},
            *tmp_mounts,
        ],
    }
    volumes: list[dict[str, Any]] = [
        {"name": "auth", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
        {"name": "source-auth", "secret": {"secretName": "source-registry-auth", "defaultMode": 0o440}},
        {"name": "config", "configMap": {"name": "image-copy"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}},
        # skopeo stages layers here: vendor images are several GB
        {"name": "var-tmp", "emptyDir": {"sizeLimit": "40Gi"}},
    ]
    pod: dict[str, Any] = {
        "serviceAccountName": SERVICE_ACCOUNT,
        # IRSA mounts its own projected web-identity token; the API token is not needed
        "automountServiceAccountToken": False,
        "restartPolicy": "Never",
        "securityContext": restricted_pod_security_context(COPY_UID, COPY_UID, fs_group=COPY_UID),
        "initContainers": [login],
        "containers": [copy],
        "volumes": volumes,
    }
    return {
        "metadata": {"labels": labels},
        "spec": {
            "backoffLimit": 2,
            "activeDeadlineSeconds": 6 * 3600,
            "ttlSecondsAfterFinished": 86400,
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }
