"""A Flink cluster managed by the operator: FlinkDeployment, session jobs, snapshots, RBAC, policies."""

from typing import Any, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .. import PACKAGE
from ..k8s.labels import standard_labels
from ..k8s.network import (
    api_server_egress_spec,
    dns_egress_spec,
    egress_spec,
    ingress_spec,
    namespace_peer,
    network_policy,
    pod_peer,
    ports,
)
from ..k8s.quantity import mebibytes
from ..k8s.rbac import service_account_with_role
from .configuration import (
    API_VERSION,
    JOBMANAGER_PORTS,
    TASKMANAGER_DATA_PORT,
    TASKMANAGER_RPC_PORT,
    flink_configuration,
    job_role_rules,
    pod_template,
    taskmanager_role_rules,
    wait_annotations,
)


class ProcessSize(TypedDict):
    replicas: int
    """Pods."""
    cpu: float
    """CPU per pod (the CRD takes a number)."""
    memory: str
    """Memory per pod, a Kubernetes quantity (converted to Flink's MiB form)."""


class JobSpec(TypedDict, total=False):
    jar_uri: str
    """The jar: in application mode usually ``local://`` (inside the image); a session job's is
    fetched by the operator (``https`` unless the operator allows more schemes)."""
    parallelism: int
    """Job parallelism."""
    upgrade_mode: str
    """stateless, savepoint or last-state."""
    state: str
    """running or suspended."""
    entry_class: str
    """Main class, when the jar's manifest has none."""
    args: list[str]
    """Program arguments."""


class SessionJob(TypedDict):
    name: str
    """FlinkSessionJob name."""
    job: JobSpec
    """The job."""


class FlinkClusterArgs(TypedDict, total=False):
    namespace: str
    """The Flink namespace (watched by the operator)."""
    env: str
    """Environment (labels)."""
    name: str
    """FlinkDeployment name."""
    image: pulumi.Input[str]
    """Flink image, pinned (the mirror's when enabled)."""
    flink_version: str
    """CRD enum, e.g. ``v1_20``."""
    service_account: str
    """Service account the operator gives the JobManager (default ``flink``); TaskManagers get
    ``<service_account>-taskmanager``."""
    claim: pulumi.Input[str]
    """ReadWriteMany claim mounted at /flink-data (HA, checkpoints, savepoints)."""
    job_manager: ProcessSize
    """JobManager size."""
    task_manager: ProcessSize
    """TaskManager size."""
    slots: int
    """Task slots per TaskManager."""
    ha: bool
    """Kubernetes HA."""
    checkpoint_interval: str
    """e.g. ``60 s``."""
    checkpoints_retained: int
    """Retained checkpoints."""
    restart_strategy: dict[str, str]
    """``type`` and its options (without the ``restart-strategy.`` prefix)."""
    flink_configuration: dict[str, str]
    """Further settings passed through."""
    job: JobSpec
    """Application mode; absent: session mode."""
    session_jobs: list[SessionJob]
    """Jobs submitted to a session cluster."""
    ingress_host: str
    """Flink UI host (HTTPS only); absent: no Ingress."""
    ingress_class: str
    """IngressClass."""
    tls_secret: str
    """TLS Secret of the host."""
    cluster_issuer: str
    """cert-manager ClusterIssuer."""
    savepoint_snapshot: bool
    """Create a FlinkStateSnapshot (an on-demand savepoint)."""
    operator_namespace: str
    """Namespace of the operator (reaches the JobManager's REST port)."""
    ingress_controller_namespace: str
    """Ingress controller namespace (reaches the REST port when the UI is exposed)."""
    api_server_cidrs: list[str]
    """API server addresses (the JobManager uses it for HA and TaskManagers)."""
    api_server_port: int
    """Its port."""


def _resource(size: ProcessSize) -> dict[str, Any]:
    return {"cpu": size["cpu"], "memory": f"{mebibytes(size['memory'])}m"}


def _job(job: JobSpec) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "jarURI": job["jar_uri"],
        "parallelism": job["parallelism"],
        "upgradeMode": job.get("upgrade_mode", "stateless"),
        "state": job.get("state", "running"),
    }
    if job.get("entry_class"):
        spec["entryClass"] = job["entry_class"]
    if job.get("args"):
        spec["args"] = job["args"]
    return spec


def taskmanager_account(args: FlinkClusterArgs) -> str:
    """The TaskManagers' service account (``kubernetes.taskmanager.service-account``)."""
    return f"{args.get('service_account', 'flink')}-taskmanager"


def deployment_spec(args: FlinkClusterArgs, claim: str) -> dict[str, Any]:
    """The FlinkDeployment spec (pure: tested against the CRD schema)."""
    labels = {"deployment": args["env"], "app.kubernetes.io/part-of": "flink"}
    spec: dict[str, Any] = {
        "image": args["image"],
        "flinkVersion": args["flink_version"],
        "mode": "native",
        "serviceAccount": args.get("service_account", "flink"),
        "flinkConfiguration": flink_configuration(
            args.get("slots", 1),
            args.get("ha", True),
            args.get("checkpoint_interval", "60 s"),
            args.get("checkpoints_retained", 3),
            args.get("restart_strategy", {"type": "exponential-delay"}),
            args.get("flink_configuration"),
            args["flink_version"],
            taskmanager_account(args),
        ),
        "podTemplate": pod_template(claim, labels),
        "jobManager": {
            "replicas": args["job_manager"]["replicas"],
            "resource": _resource(args["job_manager"]),
        },
        "taskManager": {
            "replicas": args["task_manager"]["replicas"],
            "resource": _resource(args["task_manager"]),
        },
    }
    if args.get("job"):
        spec["job"] = _job(args["job"])
    host = args.get("ingress_host")
    if host:
        annotations = {"nginx.ingress.kubernetes.io/force-ssl-redirect": "true"}
        if args.get("cluster_issuer"):
            annotations["cert-manager.io/cluster-issuer"] = args["cluster_issuer"]
        spec["ingress"] = {
            "template": host,
            "className": args.get("ingress_class", "nginx"),
            "annotations": annotations,
            "tls": [{"hosts": [host], "secretName": args.get("tls_secret") or f"{args['name']}-tls"}],
        }
    return spec


class FlinkCluster(pulumi.ComponentResource):
    """A FlinkDeployment (application or session mode) and its session jobs, with the JobManager's
    service account and namespaced Role, and allow rules for exactly Flink's flows."""

    deployment_name: pulumi.Output[str]
    """The FlinkDeployment's name."""

    def __init__(self, name: str, args: FlinkClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{PACKAGE}:index:FlinkCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace, env, deployment_name = args["namespace"], args["env"], args["name"]
        account_name = args.get("service_account", "flink")
        labels = standard_labels(deployment_name, env, "flink", component="flink-cluster")

        # the JobManager reads and writes HA ConfigMaps and starts TaskManagers: it keeps its token
        rbac = service_account_with_role(
            name, account_name, namespace, job_role_rules(), labels, child, automount_token=True
        )
        # TaskManagers find the JobManager through the HA leader ConfigMaps: read access, only with HA
        ha = args.get("ha", True)
        rbac += service_account_with_role(
            f"{name}-taskmanager",
            taskmanager_account(args),
            namespace,
            taskmanager_role_rules() if ha else [],
            labels,
            child,
            automount_token=ha,
        )
        spec = pulumi.Output.from_input(args["claim"]).apply(lambda claim: deployment_spec(args, claim))
        job = args.get("job")
        flink = k8s.apiextensions.CustomResource(
            f"{name}-deployment",
            api_version=API_VERSION,
            kind="FlinkDeployment",
            metadata={
                "name": deployment_name,
                "namespace": namespace,
                "labels": labels,
                "annotations": wait_annotations("FlinkDeployment", job.get("state", "running") if job else None),
            },
            spec=spec,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=rbac)),
        )
        for session in args.get("session_jobs", []):
            k8s.apiextensions.CustomResource(
                f"{name}-session-job-{session['name']}",
                api_version=API_VERSION,
                kind="FlinkSessionJob",
                metadata={
                    "name": session["name"],
                    "namespace": namespace,
                    "labels": labels,
                    "annotations": wait_annotations("FlinkSessionJob", session["job"].get("state", "running")),
                },
                spec={"deploymentName": deployment_name, "job": _job(session["job"])},
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[flink])),
            )
        if args.get("savepoint_snapshot"):
            # created only once the FlinkDeployment reports a RUNNING job (its waitFor), so the
            # operator never finds it before the job and marks it ABANDONED
            k8s.apiextensions.CustomResource(
                f"{name}-savepoint",
                api_version=API_VERSION,
                kind="FlinkStateSnapshot",
                metadata={
                    "name": f"{deployment_name}-savepoint",
                    "namespace": namespace,
                    "labels": labels,
                    "annotations": wait_annotations("FlinkStateSnapshot", None),
                },
                spec={
                    "backoffLimit": 1,
                    "jobReference": {"kind": "FlinkDeployment", "name": deployment_name},
                    "savepoint": {"disposeOnDelete": False, "formatType": "CANONICAL"},
                },
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[flink])),
            )
        self._network_policies(name, args, labels, child)
        self.deployment_name = pulumi.Output.from_input(deployment_name)
        self.register_outputs({"deployment_name": self.deployment_name})

    @staticmethod
    def _network_policies(
        name: str, args: FlinkClusterArgs, labels: dict[str, str], child: pulumi.ResourceOptions
    ) -> None:
        namespace, deployment_name = args["namespace"], args["name"]
        jobmanager = {"app": deployment_name, "component": "jobmanager"}
        taskmanager = {"app": deployment_name, "component": "taskmanager"}
        rpc, blob, rest = JOBMANAGER_PORTS["rpc"], JOBMANAGER_PORTS["blob"], JOBMANAGER_PORTS["rest"]
        rest_clients = [namespace_peer(args["operator_namespace"])]
        if args.get("ingress_host"):
            rest_clients.append(namespace_peer(args.get("ingress_controller_namespace", "ingress-nginx")))
        rules: dict[str, dict[str, Any]] = {
            "jobmanager-allow-taskmanagers": ingress_spec(
                jobmanager, [pod_peer(taskmanager)], ports(rpc, blob)
            ),
            "jobmanager-allow-rest": ingress_spec(jobmanager, rest_clients, ports(rest)),
            "jobmanager-to-taskmanagers": egress_spec(
                jobmanager, [pod_peer(taskmanager)], ports(TASKMANAGER_RPC_PORT)
            ),
            "jobmanager-allow-api-server": api_server_egress_spec(
                jobmanager, args["api_server_cidrs"], args.get("api_server_port", 443)
            ),
            "taskmanager-allow-peers": ingress_spec(
                taskmanager,
                [pod_peer(taskmanager), pod_peer(jobmanager)],
                ports(TASKMANAGER_DATA_PORT, TASKMANAGER_RPC_PORT),
            ),
            "taskmanager-to-jobmanager": egress_spec(taskmanager, [pod_peer(jobmanager)], ports(rpc, blob)),
            "taskmanager-to-peers": egress_spec(
                taskmanager, [pod_peer(taskmanager)], ports(TASKMANAGER_DATA_PORT)
            ),
            "flink-allow-dns": dns_egress_spec({"app": deployment_name}),
        }
        if args.get("ha", True):
            # TaskManagers watch the HA leader ConfigMaps to find ResourceManager and JobMaster
            rules["taskmanager-allow-api-server"] = api_server_egress_spec(
                taskmanager, args["api_server_cidrs"], args.get("api_server_port", 443)
            )
        for policy_name, spec in rules.items():
            network_policy(
                f"{name}-{policy_name}", namespace, f"{deployment_name}-{policy_name}", spec, labels, child
            )
