"""An in-cluster NFS server for clusters without EFS (desktop, non-AWS)."""

from typing import Any, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .. import PACKAGE
from .. import validation as v
from ..k8s.labels import selector_labels, standard_labels
from ..k8s.network import cidr_peer, ingress_spec, network_policy, ports
from ..k8s.resources import container_resources
from ..k8s.storage import volume_claim
from ..k8s.workload import deployment, service, service_port, tcp_probes
from .labels import SYSTEM

NAME = "nfs-server"
NFS_PORTS = {"nfs": 2049, "mountd": 20048, "rpcbind": 111}


DEFAULT_SIZE = "100Gi"


class InClusterNfsServerArgs(TypedDict, total=False):
    """Inputs of :class:`InClusterNfsServer`."""

    namespace: Required[pulumi.Input[str]]
    """The server's own namespace (PSA ``privileged``: see the class docstring)."""
    env: Required[str]
    """Environment (labels)."""
    image: Required[pulumi.Input[str]]
    """NFS server image, pinned (e.g. registry.k8s.io/volume-nfs)."""
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
    },
)


class InClusterNfsServer(pulumi.ComponentResource):
    """An NFS server Deployment, its Service (2049 nfs, 20048 mountd, 111 rpcbind), a backing claim,
    an ``nfs`` PersistentVolume pointing at the Service and a ReadWriteMany claim bound to it.

    Why privileged: the kernel NFS server inside the image needs to mount ``nfsd`` and manage
    exports, which no narrower capability set allows. The server therefore runs alone in its own
    namespace that enforces PSA ``privileged`` (``warn``/``audit`` stay ``restricted``), and the
    policy pack lists it as a named exception. Where EFS exists, use it instead: no privileged pod.
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
        stateful = pulumi.ResourceOptions.merge(
            child, pulumi.ResourceOptions(protect=protect, retain_on_delete=True)
        )
        namespace, env, size = args["namespace"], args["env"], args.get("size", DEFAULT_SIZE)
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
        container: dict[str, Any] = {
            "name": NAME,
            "image": args["image"],
            "ports": [{"name": n, "containerPort": p, "protocol": "TCP"} for n, p in NFS_PORTS.items()],
            "resources": container_resources("100m", "256Mi", "512Mi"),
            # the documented exception: see the class docstring
            "securityContext": {"privileged": True, "allowPrivilegeEscalation": True, "runAsUser": 0},
            **tcp_probes("nfs"),
            "volumeMounts": [{"name": "export", "mountPath": "/exports"}],
        }
        pod: dict[str, Any] = {
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "containers": [container],
            "volumes": [{"name": "export", "persistentVolumeClaim": {"claimName": "nfs-export"}}],
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
            pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[backing])),
        )
        svc = service(
            f"{name}-service",
            NAME,
            namespace,
            labels,
            selector,
            [service_port(n, p) for n, p in NFS_PORTS.items()],
            child,
        )
        network_policy(
            f"{name}-allow-nodes",
            namespace,
            "nfs-server-allow-node-mounts",
            ingress_spec(
                selector, [cidr_peer(c) for c in sorted(args["node_cidrs"])], ports(*NFS_PORTS.values())
            ),
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
            "nfs": {"server": cluster_ip, "path": "/"},
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
