"""A Flink cluster managed by the operator: FlinkDeployment, session jobs, snapshots, RBAC, policies."""

from collections.abc import Mapping
from typing import Any, Final, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .. import PACKAGE
from .. import validation as v
from ..k8s.ingress import https_ingress_annotations
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
    JOB_STATES,
    JOBMANAGER_PORTS,
    SUPPORTED_FLINK_VERSIONS,
    TASKMANAGER_DATA_PORT,
    TASKMANAGER_RPC_PORT,
    UPGRADE_MODES,
    flink_configuration,
    job_role_rules,
    pod_template,
    taskmanager_role_rules,
    wait_annotations,
)

DEFAULT_SERVICE_ACCOUNT = "flink"
DEFAULT_SLOTS = 1
DEFAULT_HA = True
DEFAULT_CHECKPOINT_INTERVAL = "60 s"
DEFAULT_CHECKPOINTS_RETAINED = 3
DEFAULT_RESTART_STRATEGY = {"type": "exponential-delay"}
DEFAULT_UPGRADE_MODE: Final = "stateless"
DEFAULT_STATE: Final = "running"
DEFAULT_INGRESS_CLASS = "nginx"
DEFAULT_INGRESS_CONTROLLER_NAMESPACE = "ingress-nginx"
DEFAULT_API_SERVER_PORT = 443


class ProcessSize(TypedDict):
    """Size of the JobManager or of the TaskManagers."""

    replicas: int
    """Pods."""
    cpu: float
    """CPU per pod (the CRD takes a number)."""
    memory: str
    """Memory per pod, a Kubernetes quantity (converted to Flink's MiB form)."""


class JobSpec(TypedDict, total=False):
    """A Flink job (application mode, or a session job)."""

    jar_uri: Required[str]
    """The jar: in application mode usually ``local://`` (inside the image); a session job's is
    fetched by the operator (``https`` unless the operator allows more schemes)."""
    parallelism: Required[int]
    """Job parallelism."""
    upgrade_mode: str
    """``stateless``, ``savepoint`` or ``last-state``. Default: ``stateless``."""
    state: str
    """``running`` or ``suspended``. Default: ``running``."""
    entry_class: str
    """Main class, when the jar's manifest has none. Default: none."""
    args: list[str]
    """Program arguments. Default: none."""


class SessionJob(TypedDict):
    """A FlinkSessionJob submitted to a session cluster."""

    name: str
    """FlinkSessionJob name."""
    job: JobSpec
    """The job."""


class FlinkClusterArgs(TypedDict, total=False):
    """Inputs of :class:`FlinkCluster`."""

    namespace: Required[pulumi.Input[str]]
    """The Flink namespace (watched by the operator)."""
    env: Required[str]
    """Environment (labels)."""
    name: Required[str]
    """FlinkDeployment name."""
    image: Required[pulumi.Input[str]]
    """Flink image, pinned (the mirror's when enabled)."""
    flink_version: Required[str]
    """The CRD's ``flinkVersion`` enum, e.g. ``v1_20``."""
    service_account: str
    """Service account the operator gives the JobManager. Default: ``flink``. TaskManagers get
    ``<service_account>-taskmanager`` (HA ConfigMap read access only)."""
    claim: Required[pulumi.Input[str]]
    """ReadWriteMany claim mounted at /flink-data (HA, checkpoints, savepoints)."""
    job_manager: Required[ProcessSize]
    """JobManager size."""
    task_manager: Required[ProcessSize]
    """TaskManager size."""
    slots: int
    """Task slots per TaskManager. Default: ``1``."""
    ha: bool
    """Kubernetes HA. Default: ``true``."""
    checkpoint_interval: str
    """Checkpoint interval. Default: ``60 s``."""
    checkpoints_retained: int
    """Retained checkpoints. Default: ``3``."""
    restart_strategy: dict[str, str]
    """``type`` and its options (without the ``restart-strategy.`` prefix).
    Default: ``type: exponential-delay``."""
    flink_configuration: dict[str, str]
    """Further settings passed through. Default: none."""
    job: JobSpec
    """Application mode. Default: none (session mode)."""
    session_jobs: list[SessionJob]
    """Jobs submitted to a session cluster. Default: none."""
    ingress_host: str
    """Flink UI host (HTTPS only). Default: none (no Ingress)."""
    ingress_class: str
    """IngressClass. Default: ``nginx``."""
    tls_secret: str
    """TLS Secret of the host. Default: ``<name>-tls``."""
    cluster_issuer: str
    """cert-manager ClusterIssuer. Default: none."""
    savepoint_snapshot: bool
    """Create a FlinkStateSnapshot (an on-demand savepoint). Default: ``false``."""
    operator_namespace: Required[pulumi.Input[str]]
    """Namespace of the operator (reaches the JobManager's REST port)."""
    ingress_controller_namespace: str
    """Ingress controller namespace (reaches the REST port when the UI is exposed).
    Default: ``ingress-nginx``."""
    api_server_cidrs: Required[list[str]]
    """API server addresses (the JobManager uses it for HA and TaskManagers)."""
    api_server_port: int
    """Its port. Default: ``443``."""


def _unique_session_jobs(args: Mapping[str, Any]) -> str | None:
    names = [job["name"] for job in args.get("session_jobs", [])]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    return f"session job names must be unique: {', '.join(duplicates)} repeated" if duplicates else None


def _one_mode(args: Mapping[str, Any]) -> str | None:
    if args.get("job") and args.get("session_jobs"):
        return "session_jobs need a session cluster: remove job (application mode) or the session jobs"
    return None


JOB_ARGS = v.ArgsSpec(
    "JobSpec",
    JobSpec,
    {
        "jar_uri": v.non_empty_text,
        "parallelism": v.positive_int,
        "upgrade_mode": v.choice(UPGRADE_MODES),
        "state": v.choice(JOB_STATES),
        "entry_class": v.non_empty_text,
        "args": v.list_of(v.text),
    },
)
_SIZE = v.ArgsSpec(
    "ProcessSize", ProcessSize, {"replicas": v.positive_int, "cpu": v.positive_number, "memory": v.memory}
)
ARGS = v.ArgsSpec(
    "FlinkCluster",
    FlinkClusterArgs,
    {
        "namespace": v.namespace_name,
        "env": v.label_value,
        "name": v.dns_label,
        "image": v.image_reference,
        "flink_version": v.choice(SUPPORTED_FLINK_VERSIONS),
        "service_account": v.dns_label,
        "claim": v.object_name,
        "job_manager": _SIZE,
        "task_manager": _SIZE,
        "slots": v.positive_int,
        "ha": v.boolean,
        "checkpoint_interval": v.non_empty_text,
        "checkpoints_retained": v.positive_int,
        "restart_strategy": v.map_of(v.non_empty_text, keys=v.non_empty_text),
        "flink_configuration": v.map_of(v.text, keys=v.non_empty_text),
        "job": JOB_ARGS,
        "session_jobs": v.list_of(
            v.ArgsSpec("SessionJob", SessionJob, {"name": v.dns_label, "job": JOB_ARGS})
        ),
        "ingress_host": v.hostname,
        "ingress_class": v.object_name,
        "tls_secret": v.object_name,
        "cluster_issuer": v.object_name,
        "savepoint_snapshot": v.boolean,
        "operator_namespace": v.namespace_name,
        "ingress_controller_namespace": v.namespace_name,
        "api_server_cidrs": v.list_of(v.cidr, min_length=1),
        "api_server_port": v.port,
    },
    rules=[v.rule("session_jobs", _unique_session_jobs), v.rule("session_jobs", _one_mode)],
)


def _resource(size: ProcessSize) -> dict[str, Any]:
    return {"cpu": size["cpu"], "memory": f"{mebibytes(size['memory'])}m"}


def _job(job: JobSpec) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "jarURI": job["jar_uri"],
        "parallelism": job["parallelism"],
        "upgradeMode": job.get("upgrade_mode", DEFAULT_UPGRADE_MODE),
        "state": job.get("state", DEFAULT_STATE),
    }
    if job.get("entry_class"):
        spec["entryClass"] = job["entry_class"]
    if job.get("args"):
        spec["args"] = job["args"]
    return spec


def taskmanager_account(args: FlinkClusterArgs) -> str:
    """The TaskManagers' service account (``kubernetes.taskmanager.service-account``)."""
    return f"{args.get('service_account', DEFAULT_SERVICE_ACCOUNT)}-taskmanager"


def deployment_spec(args: FlinkClusterArgs, claim: str) -> dict[str, Any]:
    """The FlinkDeployment spec (pure: tested against the CRD schema)."""
    labels = {"deployment": args["env"], "app.kubernetes.io/part-of": "flink"}
    spec: dict[str, Any] = {
        "image": args["image"],
        "flinkVersion": args["flink_version"],
        "mode": "native",
        "serviceAccount": args.get("service_account", DEFAULT_SERVICE_ACCOUNT),
        "flinkConfiguration": flink_configuration(
            args.get("slots", DEFAULT_SLOTS),
            args.get("ha", DEFAULT_HA),
            args.get("checkpoint_interval", DEFAULT_CHECKPOINT_INTERVAL),
            args.get("checkpoints_retained", DEFAULT_CHECKPOINTS_RETAINED),
            args.get("restart_strategy", DEFAULT_RESTART_STRATEGY),
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
        # the operator builds the Ingress from this template; its TLS section is the one below
        annotations = https_ingress_annotations(args.get("cluster_issuer"), ssl_redirect=False)
        spec["ingress"] = {
            "template": host,
            "className": args.get("ingress_class", DEFAULT_INGRESS_CLASS),
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
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:FlinkCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace, env, deployment_name = args["namespace"], args["env"], args["name"]
        account_name = args.get("service_account", DEFAULT_SERVICE_ACCOUNT)
        labels = standard_labels(deployment_name, env, "flink", component="flink-cluster")

        # the JobManager reads and writes HA ConfigMaps and starts TaskManagers: it keeps its token
        rbac = service_account_with_role(
            name, account_name, namespace, job_role_rules(), labels, child, automount_token=True
        )
        # TaskManagers find the JobManager through the HA leader ConfigMaps: read access, only with HA
        ha = args.get("ha", DEFAULT_HA)
        rbac += service_account_with_role(
            f"{name}-taskmanager",
            taskmanager_account(args),
            namespace,
            taskmanager_role_rules() if ha else [],
            {**labels, "app.kubernetes.io/component": "flink-taskmanager"},
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
                "annotations": wait_annotations(
                    "FlinkDeployment", job.get("state", DEFAULT_STATE) if job else None
                ),
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
                    "annotations": wait_annotations(
                        "FlinkSessionJob", session["job"].get("state", DEFAULT_STATE)
                    ),
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
            rest_clients.append(
                namespace_peer(args.get("ingress_controller_namespace", DEFAULT_INGRESS_CONTROLLER_NAMESPACE))
            )
        rules: dict[str, dict[str, Any]] = {
            "jobmanager-allow-taskmanagers": ingress_spec(
                jobmanager, [pod_peer(taskmanager)], ports(rpc, blob)
            ),
            "jobmanager-allow-rest": ingress_spec(jobmanager, rest_clients, ports(rest)),
            "jobmanager-to-taskmanagers": egress_spec(
                jobmanager, [pod_peer(taskmanager)], ports(TASKMANAGER_RPC_PORT)
            ),
            "jobmanager-allow-api-server": api_server_egress_spec(
                jobmanager, args["api_server_cidrs"], args.get("api_server_port", DEFAULT_API_SERVER_PORT)
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
        if args.get("ha", DEFAULT_HA):
            # TaskManagers watch the HA leader ConfigMaps to find ResourceManager and JobMaster
            rules["taskmanager-allow-api-server"] = api_server_egress_spec(
                taskmanager, args["api_server_cidrs"], args.get("api_server_port", DEFAULT_API_SERVER_PORT)
            )
        for policy_name, spec in rules.items():
            network_policy(
                f"{name}-{policy_name}", namespace, f"{deployment_name}-{policy_name}", spec, labels, child
            )
