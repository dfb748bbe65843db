"""The HyperFlow engine: runs workflows by creating one Kubernetes Job per task.

Every fact about the engine here is read from hyperflow-wms/hyperflow at tag v1.5.7 (the image
``hyperflowwms/hyperflow:v1.5.7`` is built from it: ``COPY . /hyperflow``, ``npm install -g``), and
the tests run that code (``tests/data/hyperflow-1.5.7``).
"""

import hashlib
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
    network_policies,
    pod_peer,
    ports,
)
from ..k8s.rbac import service_account_with_role
from ..k8s.resources import container_resources
from ..k8s.security import restricted_container_security_context
from ..k8s.workload import deployment
from .labels import ENGINE, SYSTEM, engine_selector, job_selector, redis_selector
from .pods import WORK_DIR, work_dir_mounts, work_dir_pod
from .redis import PASSWORD_KEY, REDIS_PORT

ENGINE_VERSION = "1.5.7"
"""The engine release this component is written and tested against."""
JOB_TEMPLATE_PATH = "/opt/hyperflow/job-template.yaml"
JOB_TEMPLATE_CONFIG_MAP = "hyperflow-job-template"
SERVER_PORT = 8080
"""``hflow start-server`` listens on ``$PORT`` at 127.0.0.1 only (``common/wfRun.js``)."""
SERVICE_ACCOUNT = "hyperflow-engine"
WORKER_CONTAINER = "worker"
"""The job pod's container name: fixed, because the engine fills ``${containerName}`` with the
worker *image* reference (``k8sJobSubmit.js``), which is no DNS label."""
TASK_SCRIPT = 'set -- ${command}; exe="$1"; shift 2; exec "$exe" "$REDIS_URL" "$@"'
"""The job pod's shell script. The engine's ``${command}`` is ``hflow-job-execute redis://host:port
-a -- "<taskId>"...``: wflib builds that URL from the client's address, without the password. The
script keeps the executable and task ids and hands the executor ``$REDIS_URL`` instead, which carries
the password from the redis Secret. Shell variables are written ``$NAME``, never ``${NAME}``: the
engine replaces every ``${word}`` in the template."""


DEFAULT_CPU = "500m"
DEFAULT_MEMORY = "1Gi"
DEFAULT_JOB_CPU = "500m"
DEFAULT_JOB_MEMORY = "512Mi"
DEFAULT_JOB_TTL_SECONDS = 600
DEFAULT_REDIS_HOST = "redis"
DEFAULT_SERVER_MODE = False
DEFAULT_API_SERVER_PORT = 443


class HyperflowEngineArgs(TypedDict, total=False):
    """Inputs of :class:`HyperflowEngine`."""

    namespace: Required[pulumi.Input[str]]
    """HyperFlow's namespace."""
    env: Required[str]
    """Environment (labels and selectors)."""
    image: Required[pulumi.Input[str]]
    """Engine image, pinned (``hyperflowwms/hyperflow``, v1.5.7: see the module docstring)."""
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
    work_dir_claim: Required[pulumi.Input[str]]
    """The ReadWriteMany claim mounted at /work_dir by the engine and every job."""
    redis_secret: Required[pulumi.Input[str]]
    """The Secret holding redis's password under ``password`` (HyperflowRedis's ``secret_name``)."""
    redis_host: str
    """redis's Service name. Default: ``redis``."""
    server_mode: bool
    """Run ``hflow start-server`` (127.0.0.1:8080 inside the pod, reached with ``kubectl exec`` or
    ``kubectl port-forward``) instead of waiting for ``hflow run``. Default: ``false``."""
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
        "work_dir_claim": v.object_name,
        "redis_secret": v.object_name,
        "redis_host": v.dns_label,
        "server_mode": v.boolean,
        "api_server_cidrs": v.list_of(v.cidr, min_length=1),
        "api_server_port": v.port,
    },
    rules=[v.not_below("job_memory_limit", "job_memory", DEFAULT_JOB_MEMORY)],
)


def engine_role_rules() -> list[dict[str, Any]]:
    """Exactly what v1.5.7 calls: ``BatchV1Api.createNamespacedJob`` (``k8sJobSubmit.js``), nothing
    else. A task's end is read from redis (``context.jobResult``), never from the Job or its pod,
    and finished Jobs go by their ``ttlSecondsAfterFinished``."""
    return [{"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create"]}]


def redis_url(host: str) -> str:
    """redis's URL with the password from ``$(REDIS_PASSWORD)`` (Kubernetes expands it from the
    variable defined before it); node-redis 3 and the job executor read the password from the URL."""
    return f"redis://:$(REDIS_PASSWORD)@{host}:{REDIS_PORT}"


def redis_credentials_env(secret: pulumi.Input[str], host: str) -> list[dict[str, Any]]:
    """``REDIS_PASSWORD`` from the Secret, then ``REDIS_URL`` built from it (order matters)."""
    return [
        {"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": secret, "key": PASSWORD_KEY}}},
        {"name": "REDIS_URL", "value": redis_url(host)},
    ]


def content_name(prefix: str, content: str) -> str:
    """``<prefix>-<10 hex of sha256>``: a new name for new content, so whatever mounts it rolls."""
    return f"{prefix}-{hashlib.sha256(content.encode()).hexdigest()[:10]}"


def job_template(
    env: str,
    cpu: str,
    memory: str,
    memory_limit: str,
    ttl_seconds: int,
    claim: str,
    redis_secret: str,
    redis_host: str = "redis",
) -> dict[str, Any]:
    """The Job the engine instantiates per task; k8sJobSubmit.js fills ``${jobName}``,
    ``${containerName}`` (the worker image) and ``${command}``.

    ``backoffLimit`` is 0: the executor reports a task's exit code to redis before its pod ends, so
    a pod retried by Kubernetes would run a task the engine already counted as failed."""
    if ttl_seconds < 0:
        raise ValueError("ttl_seconds cannot be negative")
    labels = {
        **job_selector(env),
        "app.kubernetes.io/part-of": SYSTEM,
        "app.kubernetes.io/managed-by": "hyperflow",
    }
    container: dict[str, Any] = {
        "name": WORKER_CONTAINER,
        "image": "${containerName}",
        "command": ["/bin/sh", "-c", TASK_SCRIPT],
        "workingDir": WORK_DIR,
        "env": [{"name": "HOME", "value": "/tmp"}, *redis_credentials_env(redis_secret, redis_host)],
        "resources": container_resources(cpu, memory, memory_limit),
        "securityContext": restricted_container_security_context(read_only_root_filesystem=False),
        "volumeMounts": work_dir_mounts(),
    }
    pod = work_dir_pod(container, claim)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "${jobName}", "labels": labels},
        "spec": {
            "ttlSecondsAfterFinished": ttl_seconds,
            "backoffLimit": 0,
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }


def engine_env(
    args: HyperflowEngineArgs, redis_secret: pulumi.Input[str], redis_host: str
) -> list[dict[str, Any]]:
    """The reference chart's environment, with job sizes from config and redis's password.

    ``HF_VAR_STOP_WORKFLOW_WHEN_JOB_FAILED=1``: without it v1.5.7 never calls back a failed task and
    the workflow waits forever (``functions/kubernetes/k8sCommand.js``); with it the engine exits 1.
    ``HF_VAR_BACKOFF_LIMIT=0``: with the stop switch on, the engine exits before a resubmitted task
    could run, and without it a task that exhausts its retries hangs the workflow."""
    env: list[dict[str, Any]] = [
        *redis_credentials_env(redis_secret, redis_host),
        {"name": "HF_VAR_function", "value": "k8sCommand"},
        {"name": "HF_VAR_JOB_TEMPLATE_PATH", "value": JOB_TEMPLATE_PATH},
        {"name": "HF_VAR_WORKER_CONTAINER", "value": args["worker_image"]},
        {"name": "HF_VAR_WORK_DIR", "value": WORK_DIR},
        {"name": "HF_VAR_WAIT_FOR_INPUT_FILES", "value": "0"},
        {"name": "HF_VAR_BACKOFF_LIMIT", "value": "0"},
        {"name": "HF_VAR_STOP_WORKFLOW_WHEN_JOB_FAILED", "value": "1"},
        {"name": "HF_VAR_CPU_REQUEST", "value": args.get("job_cpu", DEFAULT_JOB_CPU)},
        {"name": "HF_VAR_MEM_REQUEST", "value": args.get("job_memory", DEFAULT_JOB_MEMORY)},
        {"name": "HF_VAR_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "HOME", "value": "/tmp"},
    ]
    if args.get("server_mode", DEFAULT_SERVER_MODE):
        env.append({"name": "PORT", "value": str(SERVER_PORT)})
    return env


def server_probe_command(port: int = SERVER_PORT) -> list[str]:
    """An exec probe: the server binds 127.0.0.1 only, which the kubelet's httpGet/tcpSocket probes
    (sent to the pod IP) can never reach. The engine image is node:12-alpine, so node is there."""
    script = (
        f"require('net').connect({port}, '127.0.0.1')"
        ".on('connect', () => process.exit(0)).on('error', () => process.exit(1))"
    )
    return ["node", "-e", script]


def server_probes(startup_seconds: int = 120) -> dict[str, Any]:
    """Startup, readiness and liveness probes on the loopback-only server."""
    probe = {"exec": {"command": server_probe_command()}, "timeoutSeconds": 5}
    return {
        "startupProbe": {**probe, "periodSeconds": 10, "failureThreshold": max(1, startup_seconds // 10)},
        "readinessProbe": {**probe, "periodSeconds": 10, "failureThreshold": 3},
        "livenessProbe": {**probe, "periodSeconds": 30, "failureThreshold": 4},
    }


class HyperflowEngine(pulumi.ComponentResource):
    """The engine Deployment with its own service account and a namespaced Role that may only
    create Jobs, the job template ConfigMap (named by its content, so a change rolls the engine),
    and allow rules for redis, the API server and DNS. No ClusterRole, no wildcard, no Service:
    v1.5.7's server listens on 127.0.0.1 only."""

    service_account: pulumi.Output[str]
    """The engine's service account."""
    job_template_yaml: pulumi.Output[str]
    """The job template, as mounted."""
    job_template_config_map: pulumi.Output[str]
    """The ConfigMap holding it: ``hyperflow-job-template-<content hash>``."""

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
        redis_secret, redis_host = args["redis_secret"], args.get("redis_host", DEFAULT_REDIS_HOST)

        rbac = service_account_with_role(name, SERVICE_ACCOUNT, namespace, engine_role_rules(), labels, child)
        template_yaml = pulumi.Output.all(claim, redis_secret).apply(
            lambda inputs: yaml.safe_dump(
                job_template(
                    env,
                    args.get("job_cpu", DEFAULT_JOB_CPU),
                    args.get("job_memory", DEFAULT_JOB_MEMORY),
                    args.get("job_memory_limit", args.get("job_memory", DEFAULT_JOB_MEMORY)),
                    args.get("job_ttl_seconds", DEFAULT_JOB_TTL_SECONDS),
                    inputs[0],
                    inputs[1],
                    redis_host,
                ),
                sort_keys=True,
            )
        )
        # a new name per content: the Deployment's pod template changes with it, so the engine rolls
        # and never runs with a stale template (a subPath mount is never refreshed in place)
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-job-template",
            metadata={
                "name": template_yaml.apply(lambda t: content_name(JOB_TEMPLATE_CONFIG_MAP, t)),
                "namespace": namespace,
                "labels": labels,
            },
            data={"job-template.yaml": template_yaml},
            immutable=True,
            opts=child,
        )
        server = args.get("server_mode", DEFAULT_SERVER_MODE)
        command = (
            # v1.5.7's usage has no --host/--port: the port is $PORT, the address 127.0.0.1
            ["hflow", "start-server"]
            if server
            # workflows are started with `kubectl exec deploy/hyperflow-engine -- hflow run /work_dir`
            else ["/bin/sh", "-c", "while true; do sleep 3600; done"]
        )
        container: dict[str, Any] = {
            "name": "hyperflow",
            "image": args["image"],
            "command": command,
            "env": engine_env(args, redis_secret, redis_host),
            "resources": container_resources(
                args.get("cpu", DEFAULT_CPU), args.get("memory", DEFAULT_MEMORY)
            ),
            "securityContext": restricted_container_security_context(),
            "volumeMounts": work_dir_mounts(
                {
                    "name": "job-template",
                    "mountPath": JOB_TEMPLATE_PATH,
                    "subPath": "job-template.yaml",
                    "readOnly": True,
                }
            ),
        }
        if server:
            container.update(server_probes())
        else:
            # no port to probe: the process is a shell loop; exec probes would only test the shell
            container["livenessProbe"] = {"exec": {"command": ["hflow", "--version"]}, "periodSeconds": 60}
            container["readinessProbe"] = {"exec": {"command": ["test", "-d", WORK_DIR]}, "periodSeconds": 30}
        # the engine calls the API server to create Jobs: the one pod that gets a token
        pod = work_dir_pod(
            container,
            claim,
            service_account=SERVICE_ACCOUNT,
            extra_volumes=[{"name": "job-template", "configMap": {"name": config_map.metadata.name}}],
        )
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
        network_policies(name, namespace, rules_by_name, labels, child, prefix="hyperflow-")

        self.service_account = pulumi.Output.from_input(SERVICE_ACCOUNT)
        self.job_template_yaml = template_yaml
        self.job_template_config_map = config_map.metadata.name
        self.register_outputs(
            {
                "service_account": self.service_account,
                "job_template_yaml": template_yaml,
                "job_template_config_map": self.job_template_config_map,
            }
        )
