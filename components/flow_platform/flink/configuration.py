"""Flink's pure decisions: CRD enums, ``flinkConfiguration``, the pod template, operator values.

The enums are the Flink Kubernetes Operator 1.15.0 CRDs' (a test checks them against the CRDs), so
a bad ``flinkVersion`` or ``upgradeMode`` is a config error instead of an API server rejection.
"""

import ipaddress
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ..k8s.security import restricted_container_security_context, restricted_pod_security_context

OPERATOR_VERSION = "1.15.0"
"""The pinned operator release; its chart and CRDs ship in ``chart/`` (see its README)."""
FLINK_VERSIONS = (
    "v1_13",
    "v1_14",
    "v1_15",
    "v1_16",
    "v1_17",
    "v1_18",
    "v1_19",
    "v1_20",
    "v2_0",
    "v2_1",
    "v2_2",
)
"""The FlinkDeployment CRD's ``flinkVersion`` enum (operator 1.15.0)."""
SUPPORTED_FLINK_VERSIONS = ("v1_19", "v1_20", "v2_0", "v2_1", "v2_2")
"""What operator 1.15.0 runs without deprecation: ``FlinkVersion.isSupported`` refuses v1_13 and
v1_14, and v1_15..v1_18 are ``@Deprecated`` (flink-kubernetes-operator-api FlinkVersion.java at
release-1.15.0); v2_3 and v2_4 are in the enum class but not in the CRD."""
EXECUTION_CHECKPOINTING_SINCE = "v1_20"
"""Flink 1.20 renamed the checkpoint keys to ``execution.checkpointing.*`` (FLINK-34255), keeping
the ``state.*`` names only as deprecated keys (CheckpointingOptions.java)."""
ARTIFACT_SCHEME_PORTS = {"https": 443, "http": 80}
"""Session-job jar schemes the operator's HTTP artifact fetcher serves, and the port it connects to."""
UPGRADE_MODES = ("last-state", "savepoint", "stateless")
JOB_STATES = ("running", "suspended")
API_VERSION = "flink.apache.org/v1beta1"

FLINK_UID = 9999
"""The official Flink image's ``flink`` user."""
DATA_DIR = "/flink-data"
MAIN_CONTAINER = "flink-main-container"
JOBMANAGER_PORTS = {"rpc": 6123, "blob": 6124, "rest": 8081}
TASKMANAGER_DATA_PORT = 6121
TASKMANAGER_RPC_PORT = 6122
"""Fixed instead of Flink's random default, so NetworkPolicies can name it."""
WEBHOOK_PORT = 9443


def checkpoint_keys(flink_version: str) -> dict[str, str]:
    """Key names of the checkpoint settings for a Flink version (1.20 and later: the new names)."""
    if FLINK_VERSIONS.index(flink_version) >= FLINK_VERSIONS.index(EXECUTION_CHECKPOINTING_SINCE):
        return {
            "dir": "execution.checkpointing.dir",
            "savepoint-dir": "execution.checkpointing.savepoint-dir",
            "num-retained": "execution.checkpointing.num-retained",
            "incremental": "execution.checkpointing.incremental",
        }
    return {
        "dir": "state.checkpoints.dir",
        "savepoint-dir": "state.savepoints.dir",
        "num-retained": "state.checkpoints.num-retained",
        "incremental": "state.backend.incremental",
    }


def flink_configuration(
    slots: int,
    ha: bool,
    checkpoint_interval: str,
    checkpoints_retained: int,
    restart_strategy: dict[str, str],
    extra: dict[str, str] | None = None,
    flink_version: str = "v1_20",
    taskmanager_service_account: str | None = None,
) -> dict[str, str]:
    """The seed's recommended settings: Kubernetes HA, checkpoints and savepoints on the shared
    volume, RocksDB incremental state, a restart strategy. Values are strings, as Flink reads them.

    ``taskmanager_service_account`` (``kubernetes.taskmanager.service-account``): the account
    TaskManagers run as; they watch the HA leader ConfigMaps through it (FLINK-20664)."""
    if slots < 1 or checkpoints_retained < 1:
        raise ValueError("slots and retained checkpoints must be at least 1")
    if flink_version not in SUPPORTED_FLINK_VERSIONS:
        raise ValueError(
            f"flinkVersion {flink_version}: operator {OPERATOR_VERSION} runs {SUPPORTED_FLINK_VERSIONS}"
        )
    keys = checkpoint_keys(flink_version)
    config = {
        "taskmanager.numberOfTaskSlots": str(slots),
        "state.backend.type": "rocksdb",
        keys["incremental"]: "true",
        keys["dir"]: f"file://{DATA_DIR}/checkpoints",
        keys["savepoint-dir"]: f"file://{DATA_DIR}/savepoints",
        keys["num-retained"]: str(checkpoints_retained),
        "execution.checkpointing.interval": checkpoint_interval,
        "blob.server.port": str(JOBMANAGER_PORTS["blob"]),
        "taskmanager.data.port": str(TASKMANAGER_DATA_PORT),
        "taskmanager.rpc.port": str(TASKMANAGER_RPC_PORT),
        **{
            f"restart-strategy.{k}" if k != "type" else "restart-strategy.type": v
            for k, v in restart_strategy.items()
        },
    }
    if ha:
        config["high-availability.type"] = "kubernetes"
        config["high-availability.storageDir"] = f"file://{DATA_DIR}/ha"
    if taskmanager_service_account:
        config["kubernetes.taskmanager.service-account"] = taskmanager_service_account
    for key, value in (extra or {}).items():
        if key in config:
            raise ValueError(f"{key} is set by flow-platform from typed options; change those instead")
        config[key] = value
    return dict(sorted(config.items()))


def jar_uri_problem(uri: str, allowed_schemes: Sequence[str]) -> str | None:
    """Why operator 1.15.0 would refuse a FlinkSessionJob ``jarURI`` (``DefaultValidator
    .validateJarURI``), or None. Host names are resolved by the operator; here only literal
    addresses and ``localhost`` can be judged."""
    parsed = urlsplit(uri)
    scheme = parsed.scheme.lower()
    if not scheme:
        return "must include a scheme"
    if scheme not in [s.lower() for s in allowed_schemes]:
        return (
            f"scheme {scheme!r} is not in the operator's allowed schemes {sorted(allowed_schemes)}"
            " (flink.operator.artifactSchemes)"
        )
    if scheme in ("http", "https"):
        host = parsed.hostname or ""
        if not host:
            return "must include a host"
        if host == "localhost" or host.endswith((".svc", ".cluster.local", ".local")):
            return f"host {host!r} resolves to a restricted (loopback or site-local) address"
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return None
        site_local = any(address in net for net in _SITE_LOCAL)
        if (
            address.is_loopback
            or address.is_link_local
            or address.is_multicast
            or address.is_unspecified
            or site_local
        ):
            return f"host {host!r} is a restricted (loopback, link-local, site-local or multicast) address"
    return None


_SITE_LOCAL = [
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fec0::/10")
]
"""Java's ``InetAddress.isSiteLocalAddress``."""


def wait_for(kind: str, job_state: str | None) -> list[str]:
    """``pulumi.com/waitFor`` conditions (pulumi-kubernetes 4.18+, all must hold): what a healthy
    Flink resource reports in its status (operator 1.15.0 CRD status fields)."""
    if kind == "FlinkStateSnapshot":
        return ["jsonpath={.status.state}=COMPLETED"]
    if job_state == "suspended":
        return ["jsonpath={.status.lifecycleState}=SUSPENDED"]
    if kind == "FlinkSessionJob" or job_state == "running":
        running = ["jsonpath={.status.jobStatus.state}=RUNNING"]
        return (
            running
            if kind == "FlinkSessionJob"
            else [*running, "jsonpath={.status.jobManagerDeploymentStatus}=READY"]
        )
    return ["jsonpath={.status.jobManagerDeploymentStatus}=READY"]


def wait_annotations(kind: str, job_state: str | None, timeout_seconds: int = 900) -> dict[str, str]:
    """The annotations that make ``pulumi up`` wait for (and fail without) a healthy resource."""
    return {
        "pulumi.com/waitFor": json.dumps(wait_for(kind, job_state)),
        "pulumi.com/timeoutSeconds": str(timeout_seconds),
    }


def pod_template(claim: str, labels: dict[str, str]) -> dict[str, Any]:
    """The base pod template of JobManager and TaskManager pods: the shared claim at /flink-data
    (no hostPath), fsGroup for the Flink user, the restricted security context."""
    return {
        "metadata": {"labels": labels},
        "spec": {
            "securityContext": restricted_pod_security_context(FLINK_UID, FLINK_UID, fs_group=FLINK_UID),
            "containers": [
                {
                    "name": MAIN_CONTAINER,
                    # Flink writes its configuration and logs below /opt/flink at start-up
                    "securityContext": restricted_container_security_context(read_only_root_filesystem=False),
                    "volumeMounts": [{"name": "flink-data", "mountPath": DATA_DIR}],
                }
            ],
            "volumes": [{"name": "flink-data", "persistentVolumeClaim": {"claimName": claim}}],
        },
    }


def job_role_rules() -> list[dict[str, Any]]:
    """What the JobManager needs, as the chart's job role grants (pods, configmaps for HA leader
    election and state, deployments for its TaskManagers), with the verbs spelled out instead of
    the chart's ``*``. Namespaced."""
    verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
    return [
        {"apiGroups": [""], "resources": ["configmaps", "pods"], "verbs": verbs},
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": verbs},
        {"apiGroups": ["apps"], "resources": ["deployments/finalizers"], "verbs": ["update"]},
    ]


def taskmanager_role_rules() -> list[dict[str, Any]]:
    """What a TaskManager needs under Kubernetes HA: to find the ResourceManager and JobMaster it
    watches the leader ConfigMaps (KubernetesLeaderRetrievalDriver, an informer: get, list, watch)."""
    return [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}]


OPERATOR_RESOURCES = {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}
"""The operator's JVM (the chart sets none); no CPU limit, which throttles JVMs."""
WEBHOOK_RESOURCES = {"requests": {"cpu": "100m", "memory": "512Mi"}, "limits": {"memory": "512Mi"}}


def operator_values(
    image_repository: str,
    image_tag: str,
    namespace: str,
    watch_namespaces: list[str],
    operator_config: dict[str, str],
    webhook_password_secret: str | None = None,
) -> dict[str, Any]:
    """Chart values: pinned image, only the watched namespaces (Roles, not a ClusterRole, there),
    no job role (each FlinkCluster has its own), resources, the restricted security context, the
    webhook (with cert-manager) only with a keystore password Secret of ours, and the operator
    configuration lines appended to the chart's flink-conf.yaml."""
    if not watch_namespaces:
        raise ValueError("watchNamespaces must list the Flink namespaces; empty means every namespace")
    restricted = restricted_container_security_context(read_only_root_filesystem=False)
    webhook: dict[str, Any] = {"create": webhook_password_secret is not None}
    if webhook_password_secret is not None:
        webhook["keystore"] = {
            "useDefaultPassword": False,
            "passwordSecretRef": {"name": webhook_password_secret, "key": "password"},
        }
    conf = "\n".join(f"{k}: {v}" for k, v in sorted(operator_config.items()))
    return {
        "image": {"repository": image_repository, "tag": image_tag, "pullPolicy": "IfNotPresent"},
        "watchNamespaces": sorted(watch_namespaces),
        "webhook": webhook,
        "rbac": {"create": True, "jobRole": {"create": False}, "jobRoleBinding": {"create": False}},
        "jobServiceAccount": {"create": False},
        "operatorPod": {
            "resources": OPERATOR_RESOURCES,
            "webhook": {"resources": WEBHOOK_RESOURCES},
            "labels": {"app.kubernetes.io/part-of": "flink", "app.kubernetes.io/instance": namespace},
        },
        "podSecurityContext": restricted_pod_security_context(FLINK_UID, FLINK_UID),
        "operatorSecurityContext": restricted,
        "webhookSecurityContext": restricted,
        "defaultConfiguration": {
            "flink-conf.yaml": (
                "kubernetes.operator.metrics.reporter.slf4j.factory.class:"
                " org.apache.flink.metrics.slf4j.Slf4jReporterFactory\n"
                "kubernetes.operator.metrics.reporter.slf4j.interval: 5 MINUTE\n"
                "kubernetes.operator.reconcile.interval: 15 s\n"
                "kubernetes.operator.observer.progress-check.interval: 5 s\n" + conf + "\n"
            )
        },
    }
