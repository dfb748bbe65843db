"""Copies images ECR cannot cache (vendor registries) into the mirror: once per image list, before
the workloads that use them, and nightly for drift."""

import hashlib
import ipaddress
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
ONE_SHOT_DEADLINE_SECONDS = 2 * 3600
"""How long the one-shot copy may run; Pulumi waits a little longer (vendor images are GBs)."""

# POSIX sh (the skopeo image has no bash guarantee). Per image: a manifest-only check
# (`inspect --raw`: ecr:BatchGetImage, no blob read, so no ecr:GetDownloadUrlForLayer), a copy
# only when the tag is absent, and on to the next image whatever happens; the exit status is
# the summary's. A failed check other than "not found" is not followed by a copy: pushing onto
# an IMMUTABLE tag that exists would fail anyway.
COPY_SCRIPT = """\
set -u
images="${IMAGES_FILE:-/config/images}"
password="$(cat "${ECR_PASSWORD_FILE:-/auth/ecr-password}")"
source_auth="${SOURCE_AUTH_FILE:-/source-auth/.dockerconfigjson}"
copied=0
present=0
failed=""
while read -r source target; do
  [ -n "$source" ] || continue
  if err="$(skopeo inspect --raw --creds "AWS:${password}" "docker://${target}" \\
      2>&1 >/dev/null </dev/null)"; then
    echo "already mirrored: ${target}"
    present=$((present + 1))
    continue
  fi
  case "$err" in
    *"manifest unknown"*|*"not found"*|*"NotFound"*) ;;
    *)
      echo "cannot check ${target}: ${err}" >&2
      failed="${failed} ${target}"
      continue
      ;;
  esac
  echo "copying ${source} -> ${target}"
  if skopeo copy --all --retry-times 3 --authfile "$source_auth" \\
      --dest-creds "AWS:${password}" "docker://${source}" "docker://${target}" </dev/null; then
    copied=$((copied + 1))
  else
    echo "copy failed: ${source} -> ${target}" >&2
    failed="${failed} ${target}"
  fi
done < "$images"
echo "summary: ${copied} copied, ${present} already mirrored, failed:${failed:- none}"
[ -z "$failed" ]
"""


DEFAULT_SCHEDULE = "17 3 * * *"


class ImageCopy(TypedDict):
    """One image to copy into the mirror."""

    source: str
    """The upstream reference, pinned."""
    target: str
    """The mirror reference it is copied to."""


def images_file(copies: list[tuple[str, str]]) -> str:
    """The copy list as the job reads it: ``<source> <target>`` per line, sorted."""
    return "".join(f"{source} {target}\n" for source, target in sorted(copies))


def one_shot_job_name(copies: list[tuple[str, str]], *pod_inputs: str) -> str:
    """``image-copy-<hash>``: a new image list (a tag bump) or a new pod is a new Job, which runs
    before anything that depends on it; the same list keeps the Job that already ran."""
    digest = hashlib.sha256("\n".join([images_file(copies), *pod_inputs]).encode()).hexdigest()
    return f"{NAME}-{digest[:10]}"


def registry_egress_peers(endpoint_cidrs: list[str]) -> list[dict[str, Any]]:
    """Public HTTPS (ECR, STS and the vendor registries have changing public addresses) plus
    the VPC interface endpoints' CIDRs of a private cluster, which lie in RFC 1918 space."""
    peers: list[dict[str, Any]] = [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_RANGES}}]
    for cidr in sorted(endpoint_cidrs):
        network = ipaddress.ip_network(cidr, strict=True)
        if network.prefixlen == 0:
            raise ValueError(f"endpoint CIDR {cidr!r} is everything: name the endpoints' subnets")
        peers.append({"ipBlock": {"cidr": cidr}})
    return peers


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
    endpoint_cidrs: list[str]
    """CIDRs of the VPC interface endpoints (ECR api/dkr, STS) of a private cluster, admitted on 443.
    Default: none."""
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
        "endpoint_cidrs": v.list_of(v.cidr),
        "tags": v.map_of(v.text, keys=v.non_empty_text),
    },
)


class ImageCopyJob(pulumi.ComponentResource):
    """Copies configured tags with skopeo, as a non-root pod whose IAM role (IRSA, trust pinned to
    this service account's ``sub`` and ``aud``) may push only to the mirrored repositories.

    A one-shot Job named after the image list runs on the first ``pulumi up`` and after every
    change of the list; Pulumi waits for it to complete, so workloads that depend on
    :attr:`copied` start only once their images exist. The CronJob repairs drift nightly.
    """

    role_arn: pulumi.Output[str]
    """The job's IAM role."""
    job_name: pulumi.Output[str]
    """The one-shot Job of the current image list."""

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
        push = aws.iam.RolePolicy(
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
        source_auth = k8s.core.v1.Secret(
            f"{name}-source-auth",
            metadata={"name": "source-registry-auth", "namespace": namespace, "labels": labels},
            type="kubernetes.io/dockerconfigjson",
            string_data={".dockerconfigjson": pulumi.Output.secret(args["source_auth"])},
            opts=child,
        )
        copies = sorted((copy["source"], copy["target"]) for copy in args["copies"])
        images = images_file(copies)
        config = k8s.core.v1.ConfigMap(
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
        allow_registries = network_policy(
            f"{name}-allow-registries",
            namespace,
            "image-copy-allow-registries",
            egress_spec(selector, registry_egress_peers(args.get("endpoint_cidrs", [])), ports(443)),
            labels,
            child,
        )
        allow_dns = network_policy(
            f"{name}-allow-dns", namespace, "image-copy-allow-dns", dns_egress_spec(selector), labels, child
        )
        pod_inputs = [
            value
            for value in (args["copier_image"], args["aws_cli_image"], args["region"])
            if isinstance(value, str)
        ]
        job_name = one_shot_job_name(copies, *pod_inputs)
        one_shot = copy_job_template(args, labels, ONE_SHOT_DEADLINE_SECONDS)
        # no TTL: a Job that deleted itself would be re-created by the next `pulumi up` after a refresh
        del one_shot["spec"]["ttlSecondsAfterFinished"]
        job = k8s.batch.v1.Job(
            f"{name}-once",
            metadata={"name": job_name, "namespace": namespace, "labels": labels},
            spec=one_shot["spec"],
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(
                    depends_on=[push, account, source_auth, config, allow_registries, allow_dns],
                    custom_timeouts=pulumi.CustomTimeouts(
                        create=f"{ONE_SHOT_DEADLINE_SECONDS // 60 + 5}m",
                        update=f"{ONE_SHOT_DEADLINE_SECONDS // 60 + 5}m",
                    ),
                ),
            ),
        )
        # not an output: the one-shot Job, for Python callers to depend on
        self.copied: pulumi.Resource = job
        self.job_name = pulumi.Output.from_input(job_name)
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn, "job_name": self.job_name})


def copy_job_template(
    args: ImageCopyJobArgs, labels: dict[str, str], deadline_seconds: int = 6 * 3600
) -> dict[str, Any]:
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
            "activeDeadlineSeconds": deadline_seconds,
            "ttlSecondsAfterFinished": 86400,
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }
