"""HyperFlow's pre-approved policy exceptions: the engine, and the NFS server where it runs."""

from flow_platform.hyperflow import nfs_server
from flow_platform.hyperflow.labels import ENGINE

from ..base import PRIVILEGED_NAMESPACE, PolicyException
from .config import HyperflowConfig
from .deploy import nfs_namespace_of


def policy_exceptions(block: HyperflowConfig, env: str, namespace: str) -> list[PolicyException]:
    found: list[PolicyException] = []
    if block.storage.mode == "in-cluster":
        nfs_ns = nfs_namespace_of(block, env)
        found += [
            PolicyException(
                "pod-security-context",
                nfs_ns,
                nfs_server.NAME,
                (*(f"capability:{c}" for c in nfs_server.GANESHA_CAPABILITIES), "run-as-root"),
                "the in-cluster NFS server is NFS-Ganesha in userspace (no EFS for HyperFlow here): root"
                " in its container to act as each client, with only the capabilities its VFS backend"
                " uses; not privileged",
            ),
            PolicyException(
                PRIVILEGED_NAMESPACE,
                nfs_ns,
                nfs_ns,
                (),
                "the in-cluster NFS server runs alone here, beyond the baseline Pod Security level",
            ),
        ]
    found.append(
        PolicyException(
            "service-account-token",
            namespace,
            ENGINE,
            ("service-account-token",),
            "the engine creates a Job per workflow task through the API server (namespaced Role)",
        )
    )
    return found
