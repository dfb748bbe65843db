"""The HyperFlow engine: runs workflows by creating one Kubernetes Job per task."""

from typing import Any, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import yaml

from .. import PACKAGE
from .. import validation as v
from ..k8s.labels import standard_labels
from ..k8s.network import (
    api_server_egress_spec,
    dns_egress_spec,
    egress_spec,
    ingress_spec,
    network_policy,
    pod_peer,
    ports,
)
from ..k8s.rbac import service_account_with_role
from ..k8s.resources import container_resources
from ..k8s.security import restricted_container_security_context, restricted_pod_security_context
from ..k8s.workload import deployment, http_probes, service, service_port
from .labels import ENGINE, SYSTEM, engine_selector, job_selector, redis_selector
from .redis import REDIS_PORT

WORK_DIR = "/work_dir"
JOB_TEMPLATE_PATH = "/opt/hyperflow/job-template.yaml"
SERVER_PORT = 8080
HYPERFLOW_UID = 1000
SERVICE_ACCOUNT = "hyperflow-engine"


DEFAULT_CPU = "500m"
DEFAULT_MEMORY = "1Gi"
DEFAULT_JOB_CPU = "500m"
DEFAULT_JOB_MEMORY = "512Mi"
DEFAULT_JOB_TTL_SECONDS = 600
DEFAULT_JOB_BACKOFF_LIMIT = 0
DEFAULT_SERVER_MODE = False
DEFAULT_API_SERVER_PORT = 443


class HyperflowEngineArgs(TypedDict, total=False):
    """Inputs of :class:`HyperflowEngine`."""

    namespace: Required[pulumi.Input[str]]
    """HyperFlow's namespace."""
    env: Required[str]
    """Environment (labels and selectors)."""
    image: Required[pulumi.Input[str]]
    """Engine image, pinned (``hyperflowwms/hyperflow``)."""
    worker_image: Required[pulumi.Input[str]]
    """Image of the job pods (e.g. the Montage worker), pinned."""
    cpu: str
    """Engine CPU request. Default: ``500m``."""
    memory: str
    """Engine memory request and limit. Default: ``1Gi``."""
    job_cpu: str
    """CPU request of each job pod. Default: ``500m``."""
    job_memory: str
    """Memory request of each job pod. Default: ``512Mi``."""
    job_memory_limit: str
    """Memory limit of each job pod. Default: the job memory request."""
    job_ttl_seconds: int
    """``ttlSecondsAfterFinished`` of each job. Default: ``600``."""
    job_backoff_limit: int
    """``backoffLimit`` of each job. Default: ``0``."""
    work_dir_claim: Required[pulumi.Input[str]]
    """The ReadWriteMany claim mounted at /work_dir by the engine and every job."""
    server_mode: bool
    """Run the engine's server with a Service, instead of waiting for ``hflow run``. Default: ``false``."""
    api_server_cidrs: Required[list[str]]
    """The Kubernetes API server's addresses (the engine creates Jobs)."""
    api_server_port: int
    """Its port. Default: ``443``."""


ARGS = v.ArgsSpec(
    "HyperflowEngine",
    HyperflowEngineArgs,
    {
        "namespace": v.namespace_name,
        "env": v.label_value,
        "image": v.image_reference,
        "worker_image": v.image_reference,
        "cpu": v.cpu,
        "memory": v.memory,
        "job_cpu": v.cpu,
        "job_memory": v.memory,
        "job_memory_limit": v.memory,
        "job_ttl_seconds": v.non_negative_int,
        "job_backoff_limit": v.non_negative_int,
        "work_dir_claim": v.object_name,
        "server_mode": v.boolean,
        "api_server_cidrs": v.list_of(v.cidr, min_length=1),
        "api_server_port": v.port,
    },
    rules=[v.not_below("job_memory_limit", "job_memory", DEFAULT_JOB_MEMORY)],
)


def engine_role_rules() -> list[dict[str, Any]]:
    """Exactly what k8sCommand uses: manage Jobs, read their pods and logs. Nothing cluster-wide."""
    return [
        {
            "apiGroups": ["batch"],
            "resources": ["jobs"],
            "verbs": ["create", "delete", "get", "list", "watch"],
        },
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    ]


def job_template(
    env: str,
    cpu: str,
    memory: str,
    memory_limit: str,
    ttl_seconds: int,
    backoff_limit: int,
    claim: str,
) -> dict[str, Any]:
    """The Job the engine instantiates per task; ``${...}`` fields are filled in by k8sCommand."""
    if ttl_seconds < 0 or backoff_limit < 0:
        raise ValueError("ttl_seconds and backoff_limit cannot be negative")
    labels = {
        **job_selector(env),
        "app.kubernetes.io/part-of": SYSTEM,
        "app.kubernetes.io/managed-by": "hyperflow",
    }
    container: dict[str, Any] = {
        "name": "${containerName}",
        "image": "${containerName}",
        "command": ["/bin/sh", "-c", "${command}"],
        "workingDir": WORK_DIR,
        "env": [{"name": "HOME", "value": "/tmp"}],
        "resources": container_resources(cpu, memory, memory_limit),
        "securityContext": restricted_container_security_context(read_only_root_filesystem=False),
        "volumeMounts": [{"name": "work-dir", "mountPath": WORK_DIR}, {"name": "tmp", "mountPath": "/tmp"}],
    }
    pod: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": restricted_pod_security_context(
            HYPERFLOW_UID, HYPERFLOW_UID, fs_group=HYPERFLOW_UID
        ),
        "containers": [container],
        "volumes": [
            {"name": "work-dir", "persistentVolumeClaim": {"claimName": claim}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}},
        ],
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "${jobName}", "labels": labels},
        "spec": {
            "ttlSecondsAfterFinished": ttl_seconds,
            "backoffLimit": backoff_limit,
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }


def engine_env(args: HyperflowEngineArgs, redis_host: str) -> list[dict[str, Any]]:
    """The reference chart's environment, with job sizes from config."""
    return [
        {"name": "REDIS_URL", "value": f"redis://{redis_host}:{REDIS_PORT}"},
        {"name": "HF_VAR_function", "value": "k8sCommand"},
        {"name": "HF_VAR_JOB_TEMPLATE_PATH", "value": JOB_TEMPLATE_PATH},
        {"name": "HF_VAR_WORKER_CONTAINER", "value": args["worker_image"]},
        {"name": "HF_VAR_WORK_DIR", "value": WORK_DIR},
        {"name": "HF_VAR_WAIT_FOR_INPUT_FILES", "value": "0"},
        {
            "name": "HF_VAR_BACKOFF_LIMIT",
            "value": str(args.get("job_backoff_limit", DEFAULT_JOB_BACKOFF_LIMIT)),
        },
        {"name": "HF_VAR_CPU_REQUEST", "value": args.get("job_cpu", DEFAULT_JOB_CPU)},
        {"name": "HF_VAR_MEM_REQUEST", "value": args.get("job_memory", DEFAULT_JOB_MEMORY)},
        {"name": "HF_VAR_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "HOME", "value": "/tmp"},
    ]


class HyperflowEngine(pulumi.ComponentResource):
    """The engine Deployment with its own service account and a namespaced Role (create, get, list,
    watch, delete Jobs; read pods and their logs), the job template ConfigMap, and allow rules for
    redis, the API server and DNS. No ClusterRole, no wildcard."""

    service_account: pulumi.Output[str]
    """The engine's service account."""
    job_template_yaml: pulumi.Output[str]
    """The job template, as mounted."""

    def __init__(
        self, name: str, args: HyperflowEngineArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:HyperflowEngine", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace, env = args["namespace"], args["env"]
        labels = standard_labels(ENGINE, env, SYSTEM, component="engine")
        selector = engine_selector(env)
        claim = args["work_dir_claim"]

        rbac = service_account_with_role(name, SERVICE_ACCOUNT, namespace, engine_role_rules(), labels, child)
        template_yaml = pulumi.Output.from_input(claim).apply(
            lambda c: yaml.safe_dump(
                job_template(
                    env,
                    args.get("job_cpu", DEFAULT_JOB_CPU),
                    args.get("job_memory", DEFAULT_JOB_MEMORY),
                    args.get("job_memory_limit", args.get("job_memory", DEFAULT_JOB_MEMORY)),
                    args.get("job_ttl_seconds", DEFAULT_JOB_TTL_SECONDS),
                    args.get("job_backoff_limit", DEFAULT_JOB_BACKOFF_LIMIT),
                    c,
                ),
                sort_keys=True,
            )
        )
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-job-template",
            metadata={"name": "hyperflow-job-template", "namespace": namespace, "labels": labels},
            data={"job-template.yaml": template_yaml},
            opts=child,
        )
        server = args.get("server_mode", DEFAULT_SERVER_MODE)
        command = (
            ["hflow", "start-server", "--host", "0.0.0.0", "--port", str(SERVER_PORT)]
            if server
            # workflows are started with `kubectl exec deploy/hyperflow-engine -- hflow run /work_dir`
            else ["/bin/sh", "-c", "while true; do sleep 3600; done"]
        )
        container: dict[str, Any] = {
            "name": "hyperflow",
            "image": args["image"],
            "command": command,
            "env": engine_env(args, "redis"),
            "resources": container_resources(
                args.get("cpu", DEFAULT_CPU), args.get("memory", DEFAULT_MEMORY)
            ),
            "securityContext": restricted_container_security_context(),
            "volumeMounts": [
                {"name": "work-dir", "mountPath": WORK_DIR},
                {
                    "name": "job-template",
                    "mountPath": JOB_TEMPLATE_PATH,
                    "subPath": "job-template.yaml",
                    "readOnly": True,
                },
                {"name": "tmp", "mountPath": "/tmp"},
            ],
        }
        if server:
            container["ports"] = [{"name": "http", "containerPort": SERVER_PORT, "protocol": "TCP"}]
            container.update(http_probes("http", startup_seconds=120))
        else:
            # no port to probe: the process is a shell loop; exec probes would only test the shell
            container["livenessProbe"] = {"exec": {"command": ["hflow", "--version"]}, "periodSeconds": 60}
            container["readinessProbe"] = {"exec": {"command": ["test", "-d", WORK_DIR]}, "periodSeconds": 30}
        pod: dict[str, Any] = {
            "serviceAccountName": SERVICE_ACCOUNT,
            # the engine calls the API server to create Jobs: the one pod that gets a token
            "automountServiceAccountToken": True,
            "enableServiceLinks": False,
            "securityContext": restricted_pod_security_context(
                HYPERFLOW_UID, HYPERFLOW_UID, fs_group=HYPERFLOW_UID
            ),
            "containers": [container],
            "volumes": [
                {"name": "work-dir", "persistentVolumeClaim": {"claimName": claim}},
                {"name": "job-template", "configMap": {"name": "hyperflow-job-template"}},
                {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}},
            ],
        }
        deployment(
            f"{name}-deployment",
            ENGINE,
            namespace,
            labels,
            selector,
            pod,
            1,
            "Recreate",
            pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[*rbac, config_map])),
        )
        redis = pod_peer(redis_selector(env))
        rules_by_name: dict[str, dict[str, Any]] = {
            "hyperflow-engine-allow-redis": egress_spec(selector, [redis], ports(REDIS_PORT)),
            "hyperflow-engine-allow-api-server": api_server_egress_spec(
                selector, args["api_server_cidrs"], args.get("api_server_port", DEFAULT_API_SERVER_PORT)
            ),
            "hyperflow-engine-allow-dns": dns_egress_spec(selector),
            "hyperflow-jobs-allow-redis": egress_spec(job_selector(env), [redis], ports(REDIS_PORT)),
            "hyperflow-jobs-allow-dns": dns_egress_spec(job_selector(env)),
        }
        if server:
            service(
                f"{name}-service",
                ENGINE,
                namespace,
                labels,
                selector,
                [service_port("http", SERVER_PORT)],
                child,
            )
            rules_by_name["hyperflow-engine-allow-clients"] = ingress_spec(
                selector, [{"podSelector": {}}], ports(SERVER_PORT)
            )
        for policy_name, spec in rules_by_name.items():
            network_policy(
                f"{name}-{policy_name.removeprefix('hyperflow-')}",
                namespace,
                policy_name,
                spec,
                labels,
                child,
            )

        self.service_account = pulumi.Output.from_input(SERVICE_ACCOUNT)
        self.job_template_yaml = template_yaml
        self.register_outputs({"service_account": self.service_account, "job_template_yaml": template_yaml})
