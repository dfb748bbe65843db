"""An EFS file system exposed to one namespace as a ReadWriteMany claim owned by a fixed UID/GID."""

import hashlib
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal, Required, TypedDict, get_args

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .. import PACKAGE
from .. import validation as v
from ..k8s.labels import standard_labels
from ..k8s.storage import stateful_options
from .documents import efs_access_point_policy

NFS_PORT = 2049
CSI_DRIVER = "efs.csi.aws.com"
CREATION_TOKEN_MAX = 64
"""CreateFileSystem ``CreationToken``: 1-64 characters, unique per account and region
(https://docs.aws.amazon.com/efs/latest/ug/API_CreateFileSystem.html)."""


def volume_base_name(env: str, namespace: str, claim_name: str) -> str:
    """``flow-platform-<env>-<namespace>-<claim>``: unique per use (a claim name is unique in its
    namespace, a namespace in its cluster, the env in the account), stable across updates."""
    return f"flow-platform-{env}-{namespace}-{claim_name}"


def creation_token(base: str) -> str:
    """``base``, or when longer than EFS allows, its head and a hash of the whole, so two long
    names never share a token."""
    if len(base) <= CREATION_TOKEN_MAX:
        return base
    digest = hashlib.sha256(base.encode()).hexdigest()[:10]
    return f"{base[: CREATION_TOKEN_MAX - 11].rstrip('-')}-{digest}"


def mount_target_subnets(subnet_zones: dict[str, str]) -> list[str]:
    """One subnet per Availability Zone (the lowest id, so the choice is stable): EFS allows one
    mount target per AZ and fails the second (MountTargetConflict,
    https://docs.aws.amazon.com/efs/latest/ug/API_CreateMountTarget.html)."""
    chosen: dict[str, str] = {}
    for subnet, zone in sorted(subnet_zones.items()):
        chosen.setdefault(zone, subnet)
    return sorted(chosen.values())


class ThroughputMode(StrEnum):
    """EFS throughput modes."""

    ELASTIC = "elastic"
    """Scales with the workload; pay per transfer (the AWS recommendation for spiky use)."""
    BURSTING = "bursting"
    """Throughput grows with the stored size, with burst credits."""
    PROVISIONED = "provisioned"
    """A fixed rate, ``provisioned_throughput_mibps``."""


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
"""``transition_to_ia`` values the EFS API accepts; the stack config's type of ``transitionToIa``
(the Args field stays ``str``: the schema inference has no Literal)."""
IA_TRANSITIONS: tuple[str, ...] = get_args(TransitionToIa)
DEFAULT_THROUGHPUT_MODE = ThroughputMode.ELASTIC.value
DEFAULT_UID = 1000
DEFAULT_GID = 1000
DEFAULT_CAPACITY = "1Ti"


class EfsSharedVolumeArgs(TypedDict, total=False):
    """Inputs of :class:`EfsSharedVolume`."""

    env: Required[str]
    """Environment (tags, labels, the creation token)."""
    system: Required[str]
    """The system that owns the data (partek, flink, hyperflow)."""
    vpc_id: Required[pulumi.Input[str]]
    """The cluster's VPC."""
    subnet_ids: Required[list[str]]
    """Private subnets (plain strings, so each mount target has a stable name); their zones are
    looked up and one mount target is created per Availability Zone."""
    node_security_group_id: Required[pulumi.Input[str]]
    """The worker nodes' security group: the only source admitted on TCP 2049."""
    kms_key_arn: pulumi.Input[str]
    """Customer KMS key for encryption at rest (required in prd). Default: none (the AWS-managed key)."""
    throughput_mode: ThroughputMode
    """EFS throughput mode. Default: ``elastic``."""
    provisioned_throughput_mibps: float
    """MiB/s; required when ``throughput_mode`` is ``provisioned``. Default: none."""
    transition_to_ia: str
    """Lifecycle to Infrequent Access, e.g. ``AFTER_30_DAYS``. Default: none (no transition)."""
    namespace: Required[pulumi.Input[str]]
    """Namespace of the claim."""
    claim_name: Required[str]
    """Name of the claim (and, prefixed by the namespace, of the PersistentVolume)."""
    root_path: str
    """Directory the access point exposes, created on first use. Default: ``/<system>/<claim_name>``."""
    uid: int
    """POSIX user every client is mapped to, and owner of the root directory. Default: ``1000``."""
    gid: int
    """POSIX group, likewise. Default: ``1000``."""
    capacity: str
    """Nominal size for Kubernetes (EFS itself is elastic). Default: ``1Ti``."""
    protect: bool
    """Protect the file system, access point, volume and claim (prd). Default: ``false``."""
    tags: dict[str, str]
    """Extra AWS tags. Default: none."""


def _provisioned_rate(args: Mapping[str, Any]) -> str | None:
    provisioned = args.get("throughput_mode") == ThroughputMode.PROVISIONED
    if provisioned and args.get("provisioned_throughput_mibps") is None:
        return "throughput_mode 'provisioned' needs provisioned_throughput_mibps"
    if not provisioned and args.get("provisioned_throughput_mibps") is not None:
        return "provisioned_throughput_mibps applies only to throughput_mode 'provisioned'"
    return None


ARGS = v.ArgsSpec(
    "EfsSharedVolume",
    EfsSharedVolumeArgs,
    {
        "env": v.label_value,
        "system": v.dns_label,
        "vpc_id": v.aws_id,
        "subnet_ids": v.list_of(v.aws_id, min_length=1),
        "node_security_group_id": v.aws_id,
        "kms_key_arn": v.arn,
        "throughput_mode": v.one_of(ThroughputMode),
        "provisioned_throughput_mibps": v.positive_number,
        "transition_to_ia": v.choice(IA_TRANSITIONS),
        "namespace": v.namespace_name,
        "claim_name": v.object_name,
        "root_path": v.absolute_path,
        "uid": v.positive_int,
        "gid": v.positive_int,
        "capacity": v.storage,
        "protect": v.boolean,
        "tags": v.map_of(v.text, keys=v.non_empty_text),
    },
    rules=[v.rule("provisioned_throughput_mibps", _provisioned_rate)],
)


class EfsSharedVolume(pulumi.ComponentResource):
    """EFS, encrypted and backed up, mounted only from the cluster's nodes, surfaced as one claim.

    The Kubernetes side is a static PersistentVolume bound to one claim, not a StorageClass in
    access-point mode: dynamic provisioning creates (and on claim deletion removes) an access
    point per claim with generated directories, whereas this data must outlive any claim. Here
    the access point, its root directory and its owner (``uid``:``gid``, because EFS ignores a
    pod's ``fsGroup``) are fixed, the volume's reclaim policy is ``Retain``, and every stateful
    piece is protected in prd and retained if removed from the program. Names and the creation
    token are unique per env, namespace and claim, and stable: changing sizes, throughput or tags
    updates in place, and the create-only token and group name are never diffed after creation.
    """

    file_system_id: pulumi.Output[str]
    """The EFS file system id (``fs-...``)."""
    access_point_id: pulumi.Output[str]
    """The access point id (``fsap-...``)."""
    claim_name: pulumi.Output[str]
    """The ReadWriteMany claim to mount."""
    namespace: pulumi.Output[str]
    """The claim's namespace."""

    def __init__(
        self, name: str, args: EfsSharedVolumeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:EfsSharedVolume", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        protect = args.get("protect", False)
        stateful = stateful_options(child, protect)
        env, system = args["env"], args["system"]
        namespace, claim_name = args["namespace"], args["claim_name"]
        uid, gid = args.get("uid", DEFAULT_UID), args.get("gid", DEFAULT_GID)
        tags = {**args.get("tags", {}), "env": env, "system": system, "managed-by": "pulumi"}
        # the namespace may be an Output (a chained NamespaceGuardrails.namespace_name)
        base = pulumi.Output.from_input(namespace).apply(lambda ns: volume_base_name(env, ns, claim_name))
        # Both are create-only: a change would replace the group, or worse the file system. Names
        # chosen before they were unique per namespace stay as they are on existing resources.
        create_only = pulumi.ResourceOptions(ignore_changes=["name", "description"])

        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name=pulumi.Output.concat(base, "-efs"),
            description=pulumi.Output.concat(
                "EFS mount targets of ", base, ": NFS from the cluster nodes only"
            ),
            vpc_id=args["vpc_id"],
            revoke_rules_on_delete=True,
            tags={**tags, "Name": pulumi.Output.concat(base, "-efs")},
            opts=pulumi.ResourceOptions.merge(child, create_only),
        )
        nfs_rule = aws.vpc.SecurityGroupIngressRule(
            f"{name}-nfs-from-nodes",
            security_group_id=security_group.id,
            referenced_security_group_id=args["node_security_group_id"],
            ip_protocol="tcp",
            from_port=NFS_PORT,
            to_port=NFS_PORT,
            description="NFS from the EKS worker nodes",
            tags=tags,
            opts=child,
        )
        lifecycle: list[Any] = []
        if args.get("transition_to_ia"):
            lifecycle = [
                {"transition_to_ia": args["transition_to_ia"]},
                {"transition_to_primary_storage_class": "AFTER_1_ACCESS"},
            ]
        file_system = aws.efs.FileSystem(
            f"{name}-fs",
            creation_token=base.apply(creation_token),
            encrypted=True,
            kms_key_id=args.get("kms_key_arn"),
            performance_mode="generalPurpose",
            throughput_mode=args.get("throughput_mode", DEFAULT_THROUGHPUT_MODE),
            provisioned_throughput_in_mibps=args.get("provisioned_throughput_mibps"),
            lifecycle_policies=lifecycle,
            tags={**tags, "Name": base},
            opts=pulumi.ResourceOptions.merge(
                stateful, pulumi.ResourceOptions(ignore_changes=["creationToken"])
            ),
        )
        aws.efs.BackupPolicy(
            f"{name}-backup",
            file_system_id=file_system.id,
            backup_policy={"status": "ENABLED"},
            opts=child,
        )
        access_point = aws.efs.AccessPoint(
            f"{name}-ap",
            file_system_id=file_system.id,
            posix_user={"uid": uid, "gid": gid},
            root_directory={
                "path": args.get("root_path", f"/{system}/{claim_name}"),
                "creation_info": {"owner_uid": uid, "owner_gid": gid, "permissions": "0770"},
            },
            tags={**tags, "Name": base},
            opts=stateful,
        )

        file_system_policy = aws.efs.FileSystemPolicy(
            # was "-tls-only" (deny only); the alias updates it in place: a replacement would
            # put the new policy and then delete "the" policy, leaving none
            f"{name}-policy",
            file_system_id=file_system.id,
            policy=pulumi.Output.all(file_system.arn, access_point.arn).apply(
                lambda arns: efs_access_point_policy(arns[0], arns[1])
            ),
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(aliases=[pulumi.Alias(name=f"{name}-tls-only")])
            ),
        )
        zones = {
            subnet: aws.ec2.get_subnet(id=subnet, opts=pulumi.InvokeOptions(parent=self)).availability_zone
            for subnet in sorted(args["subnet_ids"])
        }
        mount_ready: list[pulumi.Resource] = [file_system_policy]
        for subnet_id in mount_target_subnets(zones):
            mount_target = aws.efs.MountTarget(
                f"{name}-mount-{subnet_id}",
                file_system_id=file_system.id,
                subnet_id=subnet_id,
                security_groups=[security_group.id],
                # NFS is admitted before a client can find the mount target
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[nfs_rule])),
            )
            mount_ready.append(mount_target)
        labels = standard_labels(claim_name, env, system, component="storage")
        capacity = args.get("capacity", DEFAULT_CAPACITY)
        # the namespace may be an Output (a chained NamespaceGuardrails.namespace_name): join, never format
        volume_name = pulumi.Output.concat(namespace, "-", claim_name)
        pv_spec: Any = {
            "capacity": {"storage": capacity},
            "volumeMode": "Filesystem",
            "accessModes": ["ReadWriteMany"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "",
            "mountOptions": ["tls"],
            "claimRef": {"namespace": namespace, "name": claim_name},
            "csi": {
                "driver": CSI_DRIVER,
                "volumeHandle": pulumi.Output.concat(file_system.id, "::", access_point.id),
            },
        }
        volume = k8s.core.v1.PersistentVolume(
            f"{name}-pv",
            metadata={"name": volume_name, "labels": labels},
            spec=pv_spec,
            # mountable only once a mount target is available and the policy admits the access point
            opts=pulumi.ResourceOptions.merge(stateful, pulumi.ResourceOptions(depends_on=mount_ready)),
        )
        claim_spec: Any = {
            "accessModes": ["ReadWriteMany"],
            "storageClassName": "",
            "volumeMode": "Filesystem",
            "volumeName": volume.metadata.name,
            "resources": {"requests": {"storage": capacity}},
        }
        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-claim",
            metadata={"name": claim_name, "namespace": namespace, "labels": labels},
            spec=claim_spec,
            opts=stateful,
        )

        self.file_system_id = file_system.id
        self.access_point_id = access_point.id
        self.claim_name = claim.metadata.name
        self.namespace = pulumi.Output.from_input(namespace)
        self.register_outputs(
            {
                "file_system_id": self.file_system_id,
                "access_point_id": self.access_point_id,
                "claim_name": self.claim_name,
                "namespace": self.namespace,
            }
        )
