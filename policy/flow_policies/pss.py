"""The Pod Security Standards, check by check, as kubernetes/pod-security-admission implements them.

Catalogue: ``policy/check_*.go`` at tag v0.32.0 (Kubernetes 1.32): 12 baseline and 6 restricted
checks, each with the version it appeared in (``MinimumVersion``). A check applies when its level is
within the configured one and its version is at most the configured ``pssVersion``. ``hostPathVolumes``
is judged by the separate ``no-host-path`` policy; ``restrictedVolumes`` leaves hostPath to it.

Each check yields ``(path, problem, fix, allowance)``; the allowance is what a workload's exception
must name to be let off (``capability:<CAP>``, ``volume:<type>``, ``privileged``, ...).
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .core import UNKNOWN, dig, has, items, mapping, strings
from .pods import PodSpec

Finding = tuple[str, str, str, str]
LEVELS = ("baseline", "restricted")
LATEST = (1, 32)

BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
        "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    }
)  # fmt: skip
SAFE_SYSCTLS = (
    ((1, 0), {
        "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
    }),
    ((1, 27), {"net.ipv4.ip_local_reserved_ports"}),
    ((1, 29), {
        "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }),
    ((1, 32), {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}),
)  # fmt: skip
SELINUX_TYPES = (
    ((1, 0), {"", "container_t", "container_init_t", "container_kvm_t"}),
    ((1, 31), {"container_engine_t"}),
)
RESTRICTED_VOLUMES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
NON_VOLUME_KEYS = frozenset({"name"})


@dataclass(frozen=True)
class Check:
    id: str
    level: str
    since: tuple[int, int]
    run: Callable[[PodSpec, tuple[int, int]], Iterator[Finding]]


def _windows(pod: PodSpec) -> bool:
    return bool(dig(pod.spec, "os", "name") == "windows")


def _user_namespace(pod: PodSpec) -> bool:
    # relaxPolicyForUserNamespacePod: pods with hostUsers: false (user namespaces on) are exempt
    return dig(pod.spec, "hostUsers") is False


def _ctx(container: Any) -> Any:
    return mapping(mapping(container).get("securityContext"))


def host_namespaces(pod: PodSpec, version: tuple[int, int]) -> Iterator[Finding]:
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if dig(pod.spec, key) is True:
            yield f"{pod.path}.{key}", "shares a host namespace", f"remove {key}", "host-namespaces"


def privileged(pod: PodSpec, version: tuple[int, int]) -> Iterator[Finding]:
    for path, c in pod.containers():
        if _ctx(c).get("privileged") is True:
            yield (
                f"{path}.securityContext.privileged",
                "runs privileged",
                "set privileged: false",
                "privileged",
            )


def capabilities_baseline(pod: PodSpec, version: tuple[int, int]) -> Iterator[Finding]:
    for path, c in pod.containers():
        for cap in strings(mapping(_ctx(c).get("capabilities")).get("add")):
            if cap not in BASELINE_CAPABILITIES:
                yield (
                    f"{path}.securityContext.capabilities.add",
                    f"adds {cap}",
                    f"remove it, or add a 'capability:{cap}' exception for this workload",
                    f"capability:{cap}",
                )


def host_ports(pod: PodSpec, version: tuple[int, int]) -> Iterator[Finding]:
    for path, c in pod.containers():
        for i, port in enumerate(items(mapping(c).get("ports"))):
            host_port = port.get("hostPort") if isinstance(port, Mapping) else None
            if host_port not in (None, 0, UNKNOWN):
                yield (
                    f"{path}.ports[{i}].hostPort",
                    f"binds host port {host_port}",
                    "remove hostPort and use a Service",
                    "host-ports",
                )


def app_armor(pod: PodSpec, version: tuple[int, int]) -> Iterator[Finding]:
    fix = "use appArmorProfile.type RuntimeDefault or Localhost"
    kind = dig(pod.spec, "securityContext", "appArmorProfile", "type")
    if dig(pod.spec, "securityContext", "appArmorProfile") not in (None, UNKNOWN) and kind not in (
        "RuntimeDefault",
        "Localhost",
        UNKNOWN,
    ):
        yield (
            f"{pod.path}.securityContext.appArmorProfile.type",
            f"AppArmor profile {kind!r}",
            fix,
            "privileged",
        )
    for path, c in pod.containers():
        profile = _ctx(c).get("appArmorProfile")
        kind = mapping(profile).get("type")
        if profile not in (None, UNKNOWN) and kind not in ("RuntimeDefault", "Localhost", UNKNOWN):
            yield (
                f"{path}.securityContext.appArmorProfile.type",
                f"AppArmor profile {kind!r}",
                fix,
                "privileged",
            )
    for key, value in mapping(mapping(pod.metadata).get("annotations")).items():
        apparmor = str(key).startswith("container.apparmor.security.beta.kubernetes.io/")
        bad = (
            isinstance(value, str)
            and value not in ("", "runtime/default")
            and not value.startswith("localhost/")
        )
        if apparmor and bad:
            yield f"metadata.annotations['{key}']", f"AppArmor profile {value!r}", fix, "privileged"


def se_linux(pod: PodSpec, version: tuple[int, int]) -> Iterator[Finding]:
    allowed_types = set().union(*(types for since, types in SELINUX_TYPES if since <= version))
    setters = [(f"{pod.path}.securityContext", mapping(dig(pod.spec, "securityContext")))]
    setters += [(f"{path}.securityContext", _ctx(c)) for path, c in pod.containers()]
    for where, ctx in setters:
        options = mapping(ctx.get("seLinuxOptions"))
        kind = options.get("type")
        if isinstance(kind, str) and kind not in allowed_types:
            yield (
                f"{where}.seLinuxOptions.type",
                f"SELinux type {kind!r}",
                f"use one of {sorted(allowed_types)}",
                "privileged",
            )
        for key in ("user", "role"):
            if options.get(key) not in (None, "", UNKNOWN):
                yield (
                    f"{where}.seLinuxOptions.{key}",
                    f"sets the SELinux {key}",
                    f"remove seLinuxOptions.{key}",
                    "privileged",
                )


def proc_mount(pod: PodSpec, version: tuple[int, int]) -> Iterator[Finding]:
    if _user_namespace(pod):
        return
    for path, c in pod.containers():
        value = _ctx(c).get("procMount")
        if isinstance(value, str) and value != "Default":
            yield (
                f"{path}.securityContext.procMount",
                f"procMount is {value!r}",
                "remove procMount (Default)",
                "privileged",
            )


def seccomp_baseline(pod: PodSpec, version: tuple[int, int]) -> Iterator[Finding]:
    fix = "set seccompProfile.type: RuntimeDefault"
    if dig(pod.spec, "securityContext", "seccompProfile", "type") == "Unconfined":
        yield f"{pod.path}.securityContext.seccompProfile.type", "seccomp is Unconfined", fix, "privileged"
    for path, c in pod.containers():
        if mapping(_ctx(c).get("seccompProfile")).get("type") == "Unconfined":
            yield f"{path}.securityContext.seccompProfile.type", "seccomp is Unconfined", fix, "privileged"
    if version >= (1, 19):  # seccompProfileBaseline_1_19 judges the fields; annotations before that
        return
    prefixes = ("seccomp.security.alpha.kubernetes.io/pod", "container.seccomp.security.alpha.kubernetes.io/")
    for key, value in mapping(mapping(pod.metadata).get("annotations")).items():
        safe = ("", "runtime/default", "docker/default")
        bad = isinstance(value, str) and value not in safe and not value.startswith("localhost/")
        if str(key).startswith(prefixes) and bad:
            yield f"metadata.annotations['{key}']", f"seccomp profile {value!r}", fix, "privileged"


def sysctls(pod: PodSpec, version: tuple[int, int]) -> Iterator[Finding]:
    safe = set().union(*(names for since, names in SAFE_SYSCTLS if since <= version))
    for i, sysctl in enumerate(items(dig(pod.spec, "securityContext", "sysctls"))):
        name = sysctl.get("name") if isinstance(sysctl, Mapping) else None
        if isinstance(name, str) and name not in safe:
            yield (
                f"{pod.path}.securityContext.sysctls[{i}]",
                f"sets the unsafe sysctl {name}",
                "remove it",
                "unsafe-sysctls",
            )


def windows_host_process(pod: PodSpec, version: tuple[int, int]) -> Iterator[Finding]:
    if dig(pod.spec, "securityContext", "windowsOptions", "hostProcess") is True:
        yield (
            f"{pod.path}.securityContext.windowsOptions.hostProcess",
            "runs as a Windows host process",
            "remove hostProcess",
            "privileged",
        )
    for path, c in pod.containers():
        if mapping(_ctx(c).get("windowsOptions")).get("hostProcess") is True:
            yield (
                f"{path}.securityContext.windowsOptions.hostProcess",
                "runs as a Windows host process",
                "remove hostProcess",
                "privileged",
            )


def restricted_volumes(pod: PodSpec, version: tuple[int, int]) -> Iterator[Finding]:
    for i, volume in enumerate(items(dig(pod.spec, "volumes"))):
        if not isinstance(volume, Mapping):
            continue
        sources = [k for k, v in volume.items() if k not in NON_VOLUME_KEYS and v is not None]
        if any(s is UNKNOWN for s in volume.values()) and not sources:
            continue
        kind = next((s for s in sources if s not in RESTRICTED_VOLUMES), None)
        if kind is not None and kind != "hostPath":  # hostPath: the no-host-path policy
            yield (
                f"{pod.path}.volumes[{i}].{kind}",
                f"uses the restricted volume type {kind}",
                "use a PersistentVolumeClaim (CSI) or a configMap/secret/emptyDir/projected volume",
                f"volume:{kind}",
            )


def allow_privilege_escalation(pod: PodSpec, version: tuple[int, int]) -> Iterator[Finding]:
    if version >= (1, 25) and _windows(pod):
        return
    for path, c in pod.containers():
        value = _ctx(c).get("allowPrivilegeEscalation")
        if value is not False and value is not UNKNOWN and (value is not None or not pod.partial):
            yield (
                f"{path}.securityContext.allowPrivilegeEscalation",
                "privilege escalation is allowed",
                "set allowPrivilegeEscalation: false",
                "privileged",
            )


def run_as_non_root(pod: PodSpec, version: tuple[int, int]) -> Iterator[Finding]:
    if _user_namespace(pod):
        return
    pod_value = dig(pod.spec, "securityContext", "runAsNonRoot")
    if pod_value is False:
        yield (
            f"{pod.path}.securityContext.runAsNonRoot",
            "may run as root",
            "set runAsNonRoot: true",
            "run-as-root",
        )
    for path, c in pod.containers():
        value = _ctx(c).get("runAsNonRoot")
        if value is False:
            yield (
                f"{path}.securityContext.runAsNonRoot",
                "may run as root",
                "set runAsNonRoot: true",
                "run-as-root",
            )
        elif value is None and pod_value is None and not pod.partial and _ctx(c) is not UNKNOWN:
            yield (
                f"{path}.securityContext.runAsNonRoot",
                "may run as root",
                "set runAsNonRoot: true (pod or container)",
                "run-as-root",
            )


def run_as_user(pod: PodSpec, version: tuple[int, int]) -> Iterator[Finding]:
    if _user_namespace(pod):
        return
    if dig(pod.spec, "securityContext", "runAsUser") == 0:
        yield f"{pod.path}.securityContext.runAsUser", "runs as UID 0", "run as a non-zero UID", "run-as-root"
    for path, c in pod.containers():
        if _ctx(c).get("runAsUser") == 0:
            yield f"{path}.securityContext.runAsUser", "runs as UID 0", "run as a non-zero UID", "run-as-root"


def seccomp_restricted(pod: PodSpec, version: tuple[int, int]) -> Iterator[Finding]:
    if version >= (1, 25) and _windows(pod):
        return
    good = ("RuntimeDefault", "Localhost")
    fix = "set seccompProfile.type: RuntimeDefault (pod or container)"
    pod_type = dig(pod.spec, "securityContext", "seccompProfile", "type")
    for path, c in pod.containers():
        kind = mapping(_ctx(c).get("seccompProfile")).get("type")
        if kind is UNKNOWN or kind in good:
            continue
        if kind is None and (pod_type in good or pod_type is UNKNOWN or pod.partial or _ctx(c) is UNKNOWN):
            continue
        if kind == "Unconfined" or pod_type == "Unconfined":
            continue  # reported by seccompProfile_baseline
        yield (
            f"{path}.securityContext.seccompProfile",
            f"seccomp profile is {kind or 'unset'}",
            fix,
            "privileged",
        )


def capabilities_restricted(pod: PodSpec, version: tuple[int, int]) -> Iterator[Finding]:
    if version >= (1, 25) and _windows(pod):
        return
    for path, c in pod.containers():
        caps = mapping(_ctx(c).get("capabilities"))
        drop = caps.get("drop")
        if has(drop, "ALL") is False and not (pod.partial and drop is None):
            yield (
                f"{path}.securityContext.capabilities.drop",
                "does not drop ALL capabilities",
                "set capabilities.drop: [ALL]",
                "privileged",
            )
        for cap in strings(caps.get("add")):
            if cap != "NET_BIND_SERVICE" and cap in BASELINE_CAPABILITIES:  # others: capabilities_baseline
                yield (
                    f"{path}.securityContext.capabilities.add",
                    f"adds {cap}",
                    f"remove it, or add a 'capability:{cap}' exception for this workload",
                    f"capability:{cap}",
                )


CHECKS = (
    Check("hostNamespaces", "baseline", (1, 0), host_namespaces),
    Check("privileged", "baseline", (1, 0), privileged),
    Check("capabilities_baseline", "baseline", (1, 0), capabilities_baseline),
    Check("hostPorts", "baseline", (1, 0), host_ports),
    Check("appArmorProfile", "baseline", (1, 0), app_armor),
    Check("seLinuxOptions", "baseline", (1, 0), se_linux),
    Check("procMount", "baseline", (1, 0), proc_mount),
    Check("seccompProfile_baseline", "baseline", (1, 0), seccomp_baseline),
    Check("sysctls", "baseline", (1, 0), sysctls),
    Check("windowsHostProcess", "baseline", (1, 0), windows_host_process),
    Check("restrictedVolumes", "restricted", (1, 0), restricted_volumes),
    Check("allowPrivilegeEscalation", "restricted", (1, 8), allow_privilege_escalation),
    Check("runAsNonRoot", "restricted", (1, 0), run_as_non_root),
    Check("runAsUser", "restricted", (1, 23), run_as_user),
    Check("seccompProfile_restricted", "restricted", (1, 19), seccomp_restricted),
    Check("capabilities_restricted", "restricted", (1, 22), capabilities_restricted),
)
# hostPathVolumes (baseline, 1.0) is the no-host-path policy
CATALOGUE = sorted({c.id for c in CHECKS} | {"hostPathVolumes"})


def parse_version(value: Any) -> tuple[int, int]:
    """``v1.32`` / ``1.29`` / ``latest`` -> (1, 32); the catalogue ends at 1.32."""
    if not isinstance(value, str) or value == "latest":
        return LATEST
    major, _, minor = value.removeprefix("v").partition(".")
    try:
        return min((int(major), int(minor)), LATEST)
    except ValueError:
        return LATEST


def checks_for(level: str, version: tuple[int, int]) -> list[Check]:
    upto = LEVELS.index(level) if level in LEVELS else len(LEVELS) - 1
    return [c for c in CHECKS if LEVELS.index(c.level) <= upto and c.since <= version]


def findings(pod: PodSpec, level: str, version: tuple[int, int]) -> Iterator[tuple[Check, Finding]]:
    for check in checks_for(level, version):
        for finding in check.run(pod, version):
            yield check, finding
