"""Flink's pure decisions: CRD enums, ``flinkConfiguration``, the pod template, operator values.

The enums are the Flink Kubernetes Operator 1.15.0 CRDs' (a test checks them against the CRDs), so
a bad ``flinkVersion`` or ``upgradeMode`` is a config error instead of an API server rejection.
"""

from typing import Any

from ..k8s.security import restricted_container_security_context, restricted_pod_security_context

OPERATOR_VERSION = "1.15.0"
CHART_REPOSITORY = f"https://downloads.apache.org/flink/flink-kubernetes-operator-{OPERATOR_VERSION}/"
CRD_BASE_URL = (
    "https://raw.githubusercontent.com/apache/flink-kubernetes-operator/"
    f"release-{OPERATOR_VERSION}/helm/flink-kubernetes-operator/crds"
)
CRD_FILES = (
    "flinkdeployments.flink.apache.org-v1.yml",
    "flinksessionjobs.flink.apache.org-v1.yml",
    "flinkstatesnapshots.flink.apache.org-v1.yml",
    "flinkbluegreendeployments.flink.apache.org-v1.yml",
)
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


def flink_configuration(
    slots: int,
    ha: bool,
    checkpoint_interval: str,
    checkpoints_retained: int,
    restart_strategy: dict[str, str],
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The seed's recommended settings: Kubernetes HA, checkpoints and savepoints on the shared
    volume, RocksDB incremental state, a restart strategy. Values are strings, as Flink reads them."""
    if slots < 1 or checkpoints_retained < 1:
        raise ValueError("slots and retained checkpoints must be at least 1")
    config = {
        "taskmanager.numberOfTaskSlots": str(slots),
        "state.backend.type": "rocksdb",
        "state.backend.incremental": "true",
        "state.checkpoints.dir": f"file://{DATA_DIR}/checkpoints",
        "state.savepoints.dir": f"file://{DATA_DIR}/savepoints",
        "state.checkpoints.num-retained": str(checkpoints_retained),
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
    for key, value in (extra or {}).items():
        if key in config:
            raise ValueError(f"{key} is set by flow-platform from typed options; change those instead")
        config[key] = value
    return dict(sorted(config.items()))


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


def operator_values(
    image_repository: str,
    image_tag: str,
    watch_namespaces: list[str],
    webhook: bool,
) -> dict[str, Any]:
    """Helm values: pinned image, only the watched namespaces (Roles, not a ClusterRole, there),
    webhook on only with cert-manager, the job service account left to each FlinkCluster."""
    if not watch_namespaces:
        raise ValueError("watchNamespaces must list the Flink namespaces; empty means every namespace")
    restricted = restricted_container_security_context(read_only_root_filesystem=False)
    return {
        "image": {"repository": image_repository, "tag": image_tag, "pullPolicy": "IfNotPresent"},
        "watchNamespaces": sorted(watch_namespaces),
        "webhook": {"create": webhook},
        "rbac": {"create": True, "jobRole": {"create": False}, "jobRoleBinding": {"create": False}},
        "jobServiceAccount": {"create": False},
        "podSecurityContext": restricted_pod_security_context(FLINK_UID, FLINK_UID),
        "operatorSecurityContext": restricted,
        "webhookSecurityContext": restricted,
    }
