"""Rules over every pod a resource carries: resources, security context, host access, images, probes."""

from collections.abc import Mapping
from typing import Any

from .core import LONG_RUNNING, UNKNOWN, Resource, allowed, dig, mapping, message, pod_specs
from .quantity import quantity

Config = Mapping[str, Any]
SAFE_SECCOMP = ("RuntimeDefault", "Localhost")


def resources(resource: Resource, config: Config) -> list[str]:
    """Memory limit, CPU and memory requests, requests within limits and the env's maximums; a CPU
    limit only for workloads allowed one (CPU limits throttle JVM engines)."""
    out = []
    max_cpu = quantity(config.get("maxCpu")) if config.get("maxCpu") else None
    max_memory = quantity(config.get("maxMemory")) if config.get("maxMemory") else None
    for pod in pod_specs(resource):
        if pod.path != "spec.template.spec" and resource.type.endswith("FlinkDeployment"):
            continue  # Flink's JobManager/TaskManager resources are set by the operator from spec.*.resource
        for path, container in pod.containers():
            res = container.get("resources")
            if res is UNKNOWN:
                continue
            requests = dig(res, "requests") or {}
            limits = dig(res, "limits") or {}
            for key, value in (("memory", dig(limits, "memory")),):
                if value is None:
                    out.append(
                        message(
                            resource,
                            f"{path}.resources.limits.{key}",
                            "no memory limit",
                            "set resources.limits.memory (the OOM killer is the alternative)",
                        )
                    )
            for key in ("cpu", "memory"):
                if dig(requests, key) is None:
                    out.append(
                        message(
                            resource,
                            f"{path}.resources.requests.{key}",
                            f"no {key} request",
                            f"set resources.requests.{key}",
                        )
                    )
            for key in ("cpu", "memory"):
                request, limit = dig(requests, key), dig(limits, key)
                if UNKNOWN in (request, limit) or request is None or limit is None:
                    continue
                r, lim = quantity(request), quantity(limit)
                if r is not None and lim is not None and r > lim:
                    out.append(
                        message(
                            resource,
                            f"{path}.resources.requests.{key}",
                            f"request {request} is above the limit {limit}",
                            "lower the request or raise the limit",
                        )
                    )
            cpu_limit = dig(limits, "cpu")
            if cpu_limit not in (None, UNKNOWN) and not allowed(resource, config, "cpu-limit"):
                out.append(
                    message(
                        resource,
                        f"{path}.resources.limits.cpu",
                        "a CPU limit throttles the workload",
                        "remove it, or add a 'cpu-limit' exception for this workload",
                    )
                )
            for key, maximum in (("cpu", max_cpu), ("memory", max_memory)):
                for kind, values in (("requests", requests), ("limits", limits)):
                    value = dig(values, key)
                    if maximum is None or value in (None, UNKNOWN):
                        continue
                    parsed = quantity(value)
                    if parsed is not None and parsed > maximum:
                        out.append(
                            message(
                                resource,
                                f"{path}.resources.{kind}.{key}",
                                f"{value} is above this environment's maximum",
                                f"stay within {config.get('maxCpu' if key == 'cpu' else 'maxMemory')}",
                            )
                        )
    return out


def security_context(resource: Resource, config: Config) -> list[str]:
    """No privilege, no host namespaces or ports, drop ALL capabilities (add only what an exception
    names), no privilege escalation, non-root with a UID other than 0, seccomp RuntimeDefault."""
    out = []
    for pod in pod_specs(resource):
        spec = pod.spec
        for host in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(host) is True and not allowed(resource, config, "host-namespaces"):
                out.append(
                    message(resource, f"{pod.path}.{host}", "shares a host namespace", f"remove {host}")
                )
        pod_ctx = mapping(spec.get("securityContext"))
        for path, container in pod.containers():
            ctx = mapping(container.get("securityContext"))
            here = f"{path}.securityContext"
            if ctx.get("privileged") is True and not allowed(resource, config, "privileged"):
                out.append(
                    message(resource, f"{here}.privileged", "runs privileged", "set privileged: false")
                )
            escalation = ctx.get("allowPrivilegeEscalation")
            if (
                escalation is not False
                and escalation is not UNKNOWN
                and not allowed(resource, config, "privileged")
            ):
                out.append(
                    message(
                        resource,
                        f"{here}.allowPrivilegeEscalation",
                        "privilege escalation is allowed",
                        "set allowPrivilegeEscalation: false",
                    )
                )
            caps = mapping(ctx.get("capabilities"))
            drop = caps.get("drop") or []
            if drop is not UNKNOWN and "ALL" not in drop and not allowed(resource, config, "privileged"):
                out.append(
                    message(
                        resource,
                        f"{here}.capabilities.drop",
                        "does not drop ALL capabilities",
                        "set capabilities.drop: [ALL]",
                    )
                )
            for cap in caps.get("add") or []:
                if cap is UNKNOWN or allowed(resource, config, f"capability:{cap}"):
                    continue
                out.append(
                    message(
                        resource,
                        f"{here}.capabilities.add",
                        f"adds {cap}",
                        f"remove it, or add a 'capability:{cap}' exception for this workload",
                    )
                )
            for port in container.get("ports") or []:
                if isinstance(port, Mapping) and port.get("hostPort") not in (None, UNKNOWN):
                    out.append(
                        message(
                            resource,
                            f"{path}.ports",
                            f"binds host port {port.get('hostPort')}",
                            "remove hostPort and use a Service",
                        )
                    )
            if not allowed(resource, config, "run-as-root"):
                non_root = ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot"))
                uid = ctx.get("runAsUser", pod_ctx.get("runAsUser"))
                if non_root is not True and non_root is not UNKNOWN:
                    out.append(
                        message(
                            resource,
                            f"{here}.runAsNonRoot",
                            "may run as root",
                            "set runAsNonRoot: true (pod or container)",
                        )
                    )
                if uid == 0:
                    out.append(
                        message(resource, f"{here}.runAsUser", "runs as UID 0", "run as a non-zero UID")
                    )
            seccomp = dig(ctx, "seccompProfile", "type") or dig(pod_ctx, "seccompProfile", "type")
            if (
                seccomp is not UNKNOWN
                and seccomp not in SAFE_SECCOMP
                and not allowed(resource, config, "privileged")
            ):
                out.append(
                    message(
                        resource,
                        f"{here}.seccompProfile",
                        f"seccomp profile is {seccomp or 'unset'}",
                        "set seccompProfile.type: RuntimeDefault",
                    )
                )
    return out


def no_host_path(resource: Resource, config: Config) -> list[str]:
    """hostPath volumes expose the node's file system."""
    out = []
    for pod in pod_specs(resource):
        for i, volume in enumerate(pod.spec.get("volumes") or []):
            host_path = isinstance(volume, Mapping) and volume.get("hostPath") is not None
            if host_path and not allowed(resource, config, "host-path"):
                out.append(
                    message(
                        resource,
                        f"{pod.path}.volumes[{i}].hostPath",
                        "mounts a host path",
                        "use a PersistentVolumeClaim (ReadWriteMany for shared data)",
                    )
                )
    return out


def read_only_root_filesystem(resource: Resource, config: Config) -> list[str]:
    out = []
    for pod in pod_specs(resource):
        for path, container in pod.containers():
            ctx = container.get("securityContext")
            value = ctx.get("readOnlyRootFilesystem") if isinstance(ctx, Mapping) else None
            if value is not True and value is not UNKNOWN and not allowed(resource, config, "writable-root"):
                out.append(
                    message(
                        resource,
                        f"{path}.securityContext.readOnlyRootFilesystem",
                        "the root file system is writable",
                        "set readOnlyRootFilesystem: true and mount emptyDirs where it writes",
                    )
                )
    return out


def images(resource: Resource, config: Config) -> list[str]:
    """A pinned tag (never latest; a digest where required) from an allowed registry."""
    out = []
    registries = [str(r) for r in config.get("allowedRegistries") or []]
    require_digest = bool(config.get("requireDigest"))
    # a tag in a registry whose tags are immutable (the ECR mirror) cannot move, like a digest
    immutable = [str(r) for r in config.get("immutableTagRegistries") or []]
    for pod in pod_specs(resource):
        for path, container in pod.containers():
            image = container.get("image")
            if image is None or image is UNKNOWN:
                continue
            image = str(image)
            name, _, digest = image.partition("@")
            tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else None
            if not digest and tag in (None, "latest"):
                out.append(
                    message(
                        resource,
                        f"{path}.image",
                        f"{image!r} has no pinned tag",
                        "pin a version tag (or a digest)",
                    )
                )
            if require_digest and not digest and not any(image.startswith(prefix) for prefix in immutable):
                out.append(
                    message(
                        resource,
                        f"{path}.image",
                        f"{image!r} is not pinned by digest",
                        "reference the image as repository@sha256:...",
                    )
                )
            if registries and not any(image.startswith(prefix) for prefix in registries):
                out.append(
                    message(
                        resource,
                        f"{path}.image",
                        f"{image!r} is not from an allowed registry",
                        f"pull it through the mirror ({', '.join(registries)})",
                    )
                )
    return out


def probes(resource: Resource, config: Config) -> list[str]:
    """Long-running workloads say when they are ready and when they are stuck."""
    if resource.type not in LONG_RUNNING:
        return []
    out = []
    for pod in pod_specs(resource):
        for i, container in enumerate(pod.spec.get("containers") or []):
            if not isinstance(container, Mapping):
                continue
            for probe in ("readinessProbe", "livenessProbe"):
                if container.get(probe) is None and not allowed(resource, config, "no-probes"):
                    out.append(
                        message(
                            resource,
                            f"{pod.path}.containers[{i}].{probe}",
                            f"no {probe}",
                            f"add a {probe} on the container's port",
                        )
                    )
    return out


def service_account_token(resource: Resource, config: Config) -> list[str]:
    """Pods do not get an API token unless they call the API server."""
    out = []
    for pod in pod_specs(resource):
        value = pod.spec.get("automountServiceAccountToken")
        if (
            value is not False
            and value is not UNKNOWN
            and not allowed(resource, config, "service-account-token")
        ):
            out.append(
                message(
                    resource,
                    f"{pod.path}.automountServiceAccountToken",
                    "the API token is mounted",
                    "set automountServiceAccountToken: false, or add a 'service-account-token' exception",
                )
            )
    return out
