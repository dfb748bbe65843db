"""An in-cluster NFS server for clusters without EFS (desktop, non-AWS): NFS-Ganesha in userspace."""

from typing import Any, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .. import PACKAGE
from .. import validation as v
from ..k8s.labels import selector_labels, standard_labels
from ..k8s.network import cidr_peers, ingress_spec, network_policy, ports
from ..k8s.resources import container_resources
from ..k8s.storage import stateful_options, volume_claim
from ..k8s.workload import deployment, service, service_port, tcp_probes
from .labels import SYSTEM

NAME = "nfs-server"
NFS_PORT = 2049
"""NFSv4 only: no rpcbind, no mountd, one port."""
EXPORT_DIR = "/export"
PSEUDO_PATH = "/export"
"""Where the export appears in the NFSv4 pseudo file system: the PersistentVolume's ``nfs.path``."""
GANESHA_CONFIG_PATH = "/etc/ganesha/ganesha.conf"
GANESHA_CAPABILITIES = ("CHOWN", "DAC_READ_SEARCH", "FOWNER", "SETGID", "SETUID")
"""What NFS-Ganesha's VFS backend needs and nothing else: ``DAC_READ_SEARCH`` for
``open_by_handle_at`` (NFS file handles), ``SETUID``/``SETGID`` to act with each client's (squashed)
credentials, ``CHOWN``/``FOWNER`` for ownership and mode changes made on behalf of clients. The
reference deployment (kubernetes-sigs/nfs-ganesha-server-and-external-provisioner) keeps the
runtime's default set and adds ``DAC_READ_SEARCH`` and ``SYS_RESOURCE``; we drop ALL instead, and
leave out ``SYS_RESOURCE`` (only needed to raise the hard file limit, not the soft one)."""


def ganesha_config(uid: int, gid: int) -> str:
    """One NFSv4 export of the backing volume, every client squashed to ``uid``/``gid``.

    The kubelet does not apply a client pod's ``fsGroup`` to ``nfs`` volumes, so the export itself
    must be writable by the UID/GID the clients run as: files are created as ``uid:gid`` whatever the
    client sends, and the export root belongs to group ``gid`` (the server pod's ``fsGroup``)."""
    if uid <= 0 or gid <= 0:
        raise ValueError("clients are squashed to a non-root UID and GID")
    return f"""NFS_CORE_PARAM {{
    Protocols = 4;
    NFS_Port = {NFS_PORT};
    Enable_NLM = false;
    Enable_RQUOTA = false;
}}
NFSV4 {{
    Graceless = true;
    RecoveryRoot = /var/lib/nfs/ganesha;
    Minor_Versions = 1, 2;
}}
EXPORT {{
    Export_Id = 1;
    Path = {EXPORT_DIR};
    Pseudo = {PSEUDO_PATH};
    Protocols = 4;
    Transports = TCP;
    Access_Type = RW;
    SecType = sys;
    Squash = All_Squash;
    Anonymous_Uid = {uid};
    Anonymous_Gid = {gid};
    FSAL {{
        Name = VFS;
    }}
}}
"""


def ganesha_security_context() -> dict[str, Any]:
    """Root in the container (Ganesha switches to each client's credentials), but not privileged:
    drop ALL, add :data:`GANESHA_CAPABILITIES`, no escalation, seccomp RuntimeDefault."""
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"], "add": sorted(GANESHA_CAPABILITIES)},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": False,
        "runAsUser": 0,
        "runAsGroup": 0,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


DEFAULT_SIZE = "100Gi"
DEFAULT_CLIENT_UID = 1000
DEFAULT_CLIENT_GID = 1000


class InClusterNfsServerArgs(TypedDict, total=False):
    """Inputs of :class:`InClusterNfsServer`."""

    namespace: Required[pulumi.Input[str]]
    """The server's own namespace (PSA ``privileged``: see the class docstring)."""
    env: Required[str]
    """Environment (labels)."""
    image: Required[pulumi.Input[str]]
    """An image with NFS-Ganesha at ``ganesha.nfsd``, pinned (the reference deployment's
    ``registry.k8s.io/sig-storage/nfs-provisioner``, Ganesha V4.0.8)."""
    storage_class: Required[pulumi.Input[str]]
    """Class of the server's own ReadWriteOnce backing claim."""
    size: str
    """Size of the backing claim and of the exported volume. Default: ``100Gi``."""
    client_namespace: Required[pulumi.Input[str]]
    """Namespace of the claim bound to the export."""
    claim_name: Required[str]
    """Name of that ReadWriteMany claim."""
    node_cidrs: Required[list[str]]
    """Addresses of the cluster nodes: the kubelet, not a pod, mounts NFS volumes."""
    protect: bool
    """Protect the backing claim, the PersistentVolume and the claim. Default: ``false``."""
    client_uid: int
    """UID the clients run as; every client is squashed to it. Default: ``1000`` (HyperFlow's)."""
    client_gid: int
    """GID the clients run as; the export root belongs to it. Default: ``1000``."""


ARGS = v.ArgsSpec(
    "InClusterNfsServer",
    InClusterNfsServerArgs,
    {
        "namespace": v.namespace_name,
        "env": v.label_value,
        "image": v.image_reference,
        "storage_class": v.object_name,
        "size": v.storage,
        "client_namespace": v.namespace_name,
        "claim_name": v.object_name,
        "node_cidrs": v.list_of(v.cidr, min_length=1),
        "protect": v.boolean,
        "client_uid": v.positive_int,
        "client_gid": v.positive_int,
    },
)


class InClusterNfsServer(pulumi.ComponentResource):
    """NFS-Ganesha (userspace NFSv4) as a Deployment with its config, a Service on 2049, a backing
    claim, an ``nfs`` PersistentVolume pointing at the Service and a ReadWriteMany claim bound to it.

    Not privileged: a userspace server needs a few capabilities (:data:`GANESHA_CAPABILITIES`), no
    kernel ``nfsd``. ``DAC_READ_SEARCH`` is beyond Pod Security ``baseline``, so the server still runs
    alone in its own namespace that enforces PSA ``privileged`` (``warn``/``audit`` stay
    ``restricted``) and is a named exception in the policy config. Where EFS exists, use it instead.
    The PersistentVolume names the Service's cluster IP, because the node mounting the volume does
    not resolve cluster DNS names.
    """

    claim_name: pulumi.Output[str]
    """The ReadWriteMany claim in the client namespace."""
    server_address: pulumi.Output[str]
    """The Service's cluster IP."""

    def __init__(
        self, name: str, args: InClusterNfsServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:InClusterNfsServer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        protect = args.get("protect", False)
        stateful = stateful_options(child, protect)
        namespace, env, size = args["namespace"], args["env"], args.get("size", DEFAULT_SIZE)
        uid = args.get("client_uid", DEFAULT_CLIENT_UID)
        gid = args.get("client_gid", DEFAULT_CLIENT_GID)
        labels = standard_labels(NAME, env, SYSTEM, component="storage")
        selector = selector_labels(NAME, env)

        backing = volume_claim(
            f"{name}-backing",
            "nfs-export",
            namespace,
            size,
            args["storage_class"],
            "ReadWriteOnce",
            labels,
            protect,
            child,
        )
        config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata={"name": "nfs-ganesha", "namespace": namespace, "labels": labels},
            data={"ganesha.conf": ganesha_config(uid, gid)},
            opts=child,
        )
        container: dict[str, Any] = {
            "name": NAME,
            "image": args["image"],
            "command": [
                "ganesha.nfsd",
                "-F",
                "-L",
                "/dev/stdout",
                "-f",
                GANESHA_CONFIG_PATH,
                "-p",
                "/var/run/ganesha/ganesha.pid",
            ],
            "ports": [{"name": "nfs", "containerPort": NFS_PORT, "protocol": "TCP"}],
            "resources": container_resources("100m", "256Mi", "512Mi"),
            # the documented exception: see the class docstring
            "securityContext": ganesha_security_context(),
            **tcp_probes("nfs"),
            "volumeMounts": [
                {"name": "export", "mountPath": EXPORT_DIR},
                {"name": "config", "mountPath": "/etc/ganesha", "readOnly": True},
                {"name": "run", "mountPath": "/var/run/ganesha"},
                {"name": "recovery", "mountPath": "/var/lib/nfs/ganesha"},
                {"name": "tmp", "mountPath": "/tmp"},
            ],
        }
        pod: dict[str, Any] = {
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            # the kubelet makes the backing volume's root group-owned by gid, setgid, group-writable:
            # with every client squashed to uid:gid, the export root is theirs to write
            "securityContext": {
                "fsGroup": gid,
                "fsGroupChangePolicy": "OnRootMismatch",
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [container],
            "volumes": [
                {"name": "export", "persistentVolumeClaim": {"claimName": "nfs-export"}},
                {"name": "config", "configMap": {"name": "nfs-ganesha"}},
                {"name": "run", "emptyDir": {"sizeLimit": "16Mi"}},
                {"name": "recovery", "emptyDir": {"sizeLimit": "64Mi"}},
                {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
            ],
        }
        deployment(
            f"{name}-deployment",
            NAME,
            namespace,
            labels,
            selector,
            pod,
            1,
            "Recreate",
            pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[backing, config])),
        )
        svc = service(
            f"{name}-service",
            NAME,
            namespace,
            labels,
            selector,
            [service_port("nfs", NFS_PORT)],
            child,
        )
        network_policy(
            f"{name}-allow-nodes",
            namespace,
            "nfs-server-allow-node-mounts",
            ingress_spec(selector, cidr_peers(args["node_cidrs"]), ports(NFS_PORT)),
            labels,
            child,
        )
        cluster_ip: pulumi.Output[str] = svc.spec.cluster_ip
        volume_spec: Any = {
            "capacity": {"storage": size},
            "accessModes": ["ReadWriteMany"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "",
            "mountOptions": ["nfsvers=4.1"],
            "claimRef": {"namespace": args["client_namespace"], "name": args["claim_name"]},
            "nfs": {"server": cluster_ip, "path": PSEUDO_PATH},
        }
        # the client namespace may be an Output: join it, never format it
        volume_name = pulumi.Output.concat(args["client_namespace"], "-", args["claim_name"])
        volume = k8s.core.v1.PersistentVolume(
            f"{name}-pv", metadata={"name": volume_name, "labels": labels}, spec=volume_spec, opts=stateful
        )
        claim_spec: Any = {
            "accessModes": ["ReadWriteMany"],
            "storageClassName": "",
            "volumeName": volume.metadata.name,
            "resources": {"requests": {"storage": size}},
        }
        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-claim",
            metadata={"name": args["claim_name"], "namespace": args["client_namespace"], "labels": labels},
            spec=claim_spec,
            opts=stateful,
        )
        self.claim_name = claim.metadata.name
        self.server_address = cluster_ip
        self.register_outputs({"claim_name": self.claim_name, "server_address": cluster_ip})
