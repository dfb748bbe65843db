"""What Spark itself does on Kubernetes, at the pinned version: the facts every openflow part shares.

"openflow" is Apache Spark (the seed is Spark's "Running on Kubernetes" guide, renamed). Each fact
here is read from Spark 4.0.1, the version of the pinned image ``apache/spark:4.0.1``: the classes of
``spark-kubernetes_2.13-4.0.1.jar`` (the jar in the ``pyspark==4.0.1`` distribution, built from
``resource-managers/kubernetes/core`` at tag v4.0.1) and its fabric8 ``kubernetes-client`` 7.1.0.
The integration tier runs that driver against a real API server as the driver's service account
(``tests/integration/test_openflow_spark.py``), so a verb missing here fails there.
"""

from typing import Any

from ..k8s.quantity import MIB, Quantity

SPARK_VERSION = "4.0.1"
"""The Spark release whose driver code the Role, ports, labels and sizes below are read from."""
SPARK_IMAGE = "apache/spark"
"""The official image (apache/spark-docker); ``USER spark`` is a name, UID/GID 185."""
SPARK_UID = 185
"""``spark``'s UID and GID in the official image; a restricted pod must state it (``runAsUser``)
because the image's ``USER`` is a name the kubelet cannot check for non-root."""
SPARK_HOME = "/opt/spark"
WORK_DIR = "/opt/spark/work-dir"
"""The image's ``WORKDIR``: files and jars fetched for a job land in the working directory."""

DRIVER_RPC_PORT = 7078
"""``spark.driver.port`` (``Constants.DEFAULT_DRIVER_PORT``), named ``driver-rpc-port`` on the
driver's headless Service."""
BLOCK_MANAGER_PORT = 7079
"""``spark.blockManager.port`` (``Constants.DEFAULT_BLOCKMANAGER_PORT``), named ``blockmanager``.
Spark only *declares* 7079 on the executor container: an executor's BlockManager binds
``spark.blockManager.port``, which defaults to 0 (a random port), so spark-defaults pins it or no
NetworkPolicy with an exact port could let executors fetch shuffle blocks from each other."""
UI_PORT = 4040
"""``spark.ui.port``, named ``spark-ui`` on the driver's Service."""

ROLE_LABEL = "spark-role"
"""``Constants.SPARK_ROLE_LABEL``: Spark labels every pod it creates ``driver`` or ``executor``."""
APP_LABEL = "spark-app-selector"
"""``Constants.SPARK_APP_ID_LABEL``: the application id; the driver deletes by it on stop."""
DRIVER_ROLE = "driver"
EXECUTOR_ROLE = "executor"
DRIVER_CONTAINER = "spark-kubernetes-driver"
"""``Constants.DEFAULT_DRIVER_CONTAINER_NAME``; the template's first container becomes the driver."""
EXECUTOR_CONTAINER = "spark-kubernetes-executor"
"""``Constants.DEFAULT_EXECUTOR_CONTAINER_NAME``."""
LOCAL_DIR_VOLUME_PREFIX = "spark-local-dir-"
"""``LocalDirsFeatureStep``: volume mounts of the template's container whose name starts with this
become Spark's local (scratch/shuffle) dirs instead of the unbounded emptyDirs Spark adds itself."""
LOCAL_DIR_VOLUME = f"{LOCAL_DIR_VOLUME_PREFIX}1"
LOCAL_DIR_PATH = "/var/data/spark-local-dir-1"

MIN_MEMORY_OVERHEAD_MIB = 384
"""``spark.{driver,executor}.minMemoryOverhead`` default (``384m``)."""
DEFAULT_OVERHEAD_FACTOR = 0.1
"""``spark.{driver,executor}.memoryOverheadFactor`` default for JVM jobs (0.4 for non-JVM ones)."""


def role_selector(role: str) -> dict[str, str]:
    """The pods of one Spark role in a namespace: what Spark labels them, operator or spark-submit."""
    if role not in (DRIVER_ROLE, EXECUTOR_ROLE):
        raise ValueError(f"Spark roles are {DRIVER_ROLE!r} and {EXECUTOR_ROLE!r}, not {role!r}")
    return {ROLE_LABEL: role}


def whole_mebibytes(memory: str) -> int:
    """A memory quantity as whole MiB, the unit Spark's ``spark.*.memory`` is computed in."""
    quantity = Quantity.parse(memory)
    if quantity.value % MIB:
        raise ValueError(f"{memory} is not a whole number of MiB: Spark sizes memory in MiB (e.g. 4Gi)")
    return int(quantity.value // MIB)


def memory_overhead_mib(memory_mib: int, factor: float) -> int:
    """``max((factor * memory).toInt, minMemoryOverhead)``: BasicExecutorFeatureStep and
    BasicDriverFeatureStep, Spark 4.0.1 (``toInt`` truncates, as Python's ``int`` does)."""
    if not 0 < factor < 1e6:
        raise ValueError(f"a memory overhead factor is greater than 0, not {factor!r}")
    return max(int(factor * memory_mib), MIN_MEMORY_OVERHEAD_MIB)


def pod_memory_mib(memory_mib: int, factor: float) -> int:
    """The memory request and limit Spark gives a driver or executor container: heap + overhead.
    (Off-heap and ``spark.*.pyspark.memory`` add to it when a job sets them; we set neither.)"""
    return memory_mib + memory_overhead_mib(memory_mib, factor)


def spark_memory(memory_mib: int) -> str:
    """A size in Spark's own notation (``4096m``): Spark reads ``4Gi`` as an error."""
    return f"{memory_mib}m"


def driver_role_rules() -> list[dict[str, Any]]:
    """Exactly what the Spark 4.0.1 driver calls, in its own namespace (fabric8 7.1.0 verbs).

    - pods: ``create`` executors (ExecutorPodsAllocator ``resource(pod).create()``); ``get`` its own
      pod and an executor before editing it (``withName().get()``; ``edit()`` reads then patches);
      ``list`` + ``watch`` executors (ExecutorPodsPollingSnapshotSource, ExecutorPodsWatchSnapshotSource,
      ``waitUntilReady`` on its own pod); ``patch`` (``edit()`` labels an executor with its id in
      KubernetesDriverEndpoint, marks finished ones ``spark-exec-inactive`` in
      ExecutorPodsLifecycleManager); ``delete`` one executor (lifecycle manager, failed PVC
      creation); ``deletecollection`` by label (``withLabel(..).delete()`` is one DELETE on the
      collection in fabric8 7.1.0 ``BaseOperation.deleteAll``: excess, timed-out, killed and all
      executors on stop).
    - configmaps: ``create`` the executor ConfigMap (``setUpExecutorConfigMap``), ``deletecollection``
      it on stop. The driver never reads or deletes a ConfigMap by name.
    - services: ``deletecollection`` of its own Service on stop
      (``spark.kubernetes.driver.service.deleteOnTermination``); spark-submit, not the driver,
      creates the Service (as the submitter, see :func:`submitter_role_rules`).
    - persistentvolumeclaims: ``create`` on-demand claims, ``list`` reusable ones
      (``getReusablePVCs``), ``deletecollection`` on stop (``ownPersistentVolumeClaim``).
    """
    return [
        {
            "apiGroups": [""],
            "resources": ["pods"],
            "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "watch"],
        },
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "deletecollection"]},
        {"apiGroups": [""], "resources": ["services"], "verbs": ["deletecollection"]},
        {
            "apiGroups": [""],
            "resources": ["persistentvolumeclaims"],
            "verbs": ["create", "deletecollection", "list"],
        },
    ]


def submitter_role_rules() -> list[dict[str, Any]]:
    """What ``spark-submit --deploy-mode cluster`` (Spark 4.0.1 ``submit.Client``) calls as the person
    or pipeline submitting: ``create`` the driver pod, server-side apply (``patch``) of the driver's
    Service and ConfigMaps (``resourceList(..).forceConflicts().serverSideApply()``), ``delete`` them
    again if the pod cannot be created, ``get``/``watch`` the driver pod while waiting for it, and
    ``list``/``delete`` pods for ``--status`` and ``--kill``."""
    return [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "delete", "get", "list", "watch"]},
        {
            "apiGroups": [""],
            "resources": ["configmaps", "services"],
            "verbs": ["create", "delete", "get", "patch"],
        },
    ]
