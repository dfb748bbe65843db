"""Security contexts that satisfy Pod Security Admission's ``restricted`` level.

Every workload starts from these; a component that needs more (FlexLM's ``NET_ADMIN``) adds
exactly that on top and says why next to the call.
"""

from typing import Any

PSA_LEVELS = ("restricted", "baseline", "privileged")


def restricted_pod_security_context(
    uid: int,
    gid: int | None = None,
    fs_group: int | None = None,
) -> dict[str, Any]:
    """Pod-level context: non-root with a fixed UID/GID and the runtime's default seccomp profile."""
    if uid == 0:
        raise ValueError("the restricted pod security context never runs as UID 0")
    context: dict[str, Any] = {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": gid if gid is not None else uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    if fs_group is not None:
        context["fsGroup"] = fs_group
        # Only chown the volume when its root does not already match: large shared volumes
        # (EFS, NFS) would otherwise be walked recursively on every pod start.
        context["fsGroupChangePolicy"] = "OnRootMismatch"
    return context


def restricted_container_security_context(
    read_only_root_filesystem: bool = True,
    add_capabilities: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Container-level context: drop ALL, no escalation, non-root, seccomp RuntimeDefault.

    ``read_only_root_filesystem`` is on unless the workload writes outside its volumes (Tomcat,
    for one, unpacks into its install directory). ``add_capabilities`` is for the documented
    exceptions only; it is never used to add back what ``restricted`` forbids by accident.
    """
    capabilities: dict[str, Any] = {"drop": ["ALL"]}
    if add_capabilities:
        capabilities["add"] = sorted(set(add_capabilities))
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": capabilities,
        "privileged": False,
        "readOnlyRootFilesystem": read_only_root_filesystem,
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
