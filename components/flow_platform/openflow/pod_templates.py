"""Driver and executor pod templates that pass restricted Pod Security as Spark fills them in.

spark-submit starts each pod from its template and overwrites only what Spark owns (image, name,
resources it sizes, its own env, ports, conf volume, service account when configured); security
contexts, volumes and labels of the template stay. The official image states ``USER spark`` by name,
so without ``runAsUser: 185`` the kubelet cannot prove the pod non-root and restricted admission
rejects it. The operator (:mod:`flow_platform.openflow`'s application components) uses the same
templates as ``spec.driver.template`` / ``spec.executor.template``.

Spark writes outside its local dirs: the JVM's ``/tmp`` (hsperfdata, ``java.io.tmpdir``, the
image's entrypoint), the working directory (fetched files and jars). Each gets an emptyDir so the
root filesystem stays read-only; local dirs are ``spark-local-dir-*`` mounts of the template's
container, which Spark's ``LocalDirsFeatureStep`` uses instead of adding unbounded emptyDirs.
"""

from enum import StrEnum
from typing import Any

from ..k8s.resources import container_resources
from ..k8s.security import restricted_container_security_context, restricted_pod_security_context
from .spark import (
    DRIVER_CONTAINER,
    DRIVER_ROLE,
    EXECUTOR_CONTAINER,
    EXECUTOR_ROLE,
    LOCAL_DIR_PATH,
    LOCAL_DIR_VOLUME,
    SPARK_UID,
    WORK_DIR,
)

SYSTEM = "openflow"
TMP_SIZE = "1Gi"
WORK_DIR_SIZE = "2Gi"


class LocalDirMedium(StrEnum):
    """Where Spark's local (shuffle and spill) dirs live."""

    DISK = "disk"
    """An emptyDir on the node's disk (ephemeral storage), bounded by its size."""
    MEMORY = "memory"
    """A tmpfs emptyDir: fast, and counted in the pod's memory (keep it within the overhead)."""


def template_labels(env: str, role: str) -> dict[str, str]:
    """Labels the template puts on every driver or executor pod (Spark adds its own beside them)."""
    return {
        "app.kubernetes.io/component": f"spark-{role}",
        "app.kubernetes.io/part-of": SYSTEM,
        "deployment": env,
        "flow-platform/system": SYSTEM,
    }


def _empty_dir(size: str, medium: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"sizeLimit": size}
    if medium == LocalDirMedium.MEMORY.value:
        spec["medium"] = "Memory"
    return spec


def pod_template(
    role: str,
    env: str,
    image: str,
    service_account: str,
    cpu: str,
    memory_mib: int,
    local_dir_size: str | None,
    local_dir_medium: str = LocalDirMedium.DISK.value,
) -> dict[str, Any]:
    """A v1 Pod for Spark's driver or executor ``role``, restricted Pod Security as rendered.

    ``cpu`` and ``memory_mib`` are what Spark will set (requests; memory limit = request), so the
    template admitted on its own is the pod Spark creates. ``local_dir_size`` None leaves the local
    dir out: the executor then gets its ``spark-local-dir-1`` from an on-demand claim instead.
    """
    if role not in (DRIVER_ROLE, EXECUTOR_ROLE):
        raise ValueError(f"role is {DRIVER_ROLE!r} or {EXECUTOR_ROLE!r}, not {role!r}")
    if local_dir_medium not in tuple(LocalDirMedium):
        raise ValueError(f"local_dir_medium is one of {', '.join(LocalDirMedium)}, not {local_dir_medium!r}")
    driver = role == DRIVER_ROLE
    mounts = [{"name": "tmp", "mountPath": "/tmp"}, {"name": "work-dir", "mountPath": WORK_DIR}]
    volumes: list[dict[str, Any]] = [
        {"name": "tmp", "emptyDir": _empty_dir(TMP_SIZE)},
        {"name": "work-dir", "emptyDir": _empty_dir(WORK_DIR_SIZE)},
    ]
    if local_dir_size is not None:
        mounts.append({"name": LOCAL_DIR_VOLUME, "mountPath": LOCAL_DIR_PATH})
        volumes.append({"name": LOCAL_DIR_VOLUME, "emptyDir": _empty_dir(local_dir_size, local_dir_medium)})
    container: dict[str, Any] = {
        "name": DRIVER_CONTAINER if driver else EXECUTOR_CONTAINER,
        "image": image,
        "resources": container_resources(cpu, f"{memory_mib}Mi"),
        "securityContext": restricted_container_security_context(),
        "volumeMounts": mounts,
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"labels": template_labels(env, role)},
        "spec": {
            "serviceAccountName": service_account,
            # only the driver calls the API server; an executor has nothing to do with a token
            "automountServiceAccountToken": driver,
            "enableServiceLinks": False,
            "restartPolicy": "Never",
            "securityContext": restricted_pod_security_context(SPARK_UID, SPARK_UID, fs_group=SPARK_UID),
            "containers": [container],
            "volumes": volumes,
        },
    }
