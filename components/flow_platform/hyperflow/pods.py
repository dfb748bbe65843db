"""The one pod shape every HyperFlow pod shares: engine, job-template task pods and one-shot jobs.

Each runs as HyperFlow's UID with the restricted security context, mounts the shared /work_dir
claim and a size-limited /tmp, and gets no service links; only a pod with a service account (the
engine, which creates Jobs) gets an API token.
"""

from collections.abc import Sequence
from typing import Any

from ..k8s.security import restricted_pod_security_context

WORK_DIR = "/work_dir"
HYPERFLOW_UID = 1000
"""The UID (and GID) HyperFlow's images run as; /work_dir belongs to it (the data UID)."""
TMP_SIZE_LIMIT = "1Gi"


def work_dir_mounts(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """/work_dir, any ``extra`` mounts, then /tmp."""
    return [{"name": "work-dir", "mountPath": WORK_DIR}, *extra, {"name": "tmp", "mountPath": "/tmp"}]


def work_dir_pod(
    container: dict[str, Any],
    claim: Any,
    *,
    service_account: str | None = None,
    extra_volumes: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A pod spec running ``container`` on the /work_dir ``claim``: a Job's pod (never restarted, no
    token) or, with ``service_account``, the engine's (its token calls the API server)."""
    pod: dict[str, Any] = (
        {"serviceAccountName": service_account, "automountServiceAccountToken": True}
        if service_account
        else {"restartPolicy": "Never", "automountServiceAccountToken": False}
    )
    pod.update(
        {
            "enableServiceLinks": False,
            "securityContext": restricted_pod_security_context(
                HYPERFLOW_UID, HYPERFLOW_UID, fs_group=HYPERFLOW_UID
            ),
            "containers": [container],
            "volumes": [
                {"name": "work-dir", "persistentVolumeClaim": {"claimName": claim}},
                *extra_volumes,
                {"name": "tmp", "emptyDir": {"sizeLimit": TMP_SIZE_LIMIT}},
            ],
        }
    )
    return pod
