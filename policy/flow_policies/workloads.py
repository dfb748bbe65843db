"""Rules over every pod a resource carries: resources, Pod Security Standards, host paths, images,
probes and API tokens. The pods come from :mod:`.pods` (built-in kinds, patches, custom resources)."""

from collections.abc import Mapping
from typing import Any

from . import pss
from .core import UNKNOWN, Resource, allowed, dig, items, mapping, message
from .pods import LONG_RUNNING_KINDS, pod_specs
from .quantity import quantity

Config = Mapping[str, Any]


def resources(resource: Resource, config: Config) -> list[str]:
    """Memory limit, CPU and memory requests, requests within limits and the env's maximums; a CPU
    limit only for workloads allowed one (CPU limits throttle JVM engines)."""
    out = []
    max_cpu = quantity(config.get("maxCpu")) if config.get("maxCpu") else None
    max_memory = quantity(config.get("maxMemory")) if config.get("maxMemory") else None
    for pod in pod_specs(resource):
        for path, container in pod.containers(("initContainers", "containers")):
            res = mapping(mapping(container).get("resources"))
            requests, limits = mapping(res.get("requests")), mapping(res.get("limits"))
            if pod.missing(limits.get("memory")) and res.get("limits") is not UNKNOWN:
                out.append(
                    message(
                        resource,
                        f"{path}.resources.limits.memory",
                        "no memory limit",
                        "set resources.limits.memory (the OOM killer is the alternative)",
                    )
                )
            for key in ("cpu", "memory"):
                if pod.missing(requests.get(key)) and res.get("requests") is not UNKNOWN:
                    out.append(
                        message(
                            resource,
                            f"{path}.resources.requests.{key}",
                            f"no {key} request",
                            f"set resources.requests.{key}",
                        )
                    )
            for key in ("cpu", "memory"):
                request, limit = requests.get(key), limits.get(key)
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
            cpu_limit = limits.get("cpu")
            if (
                cpu_limit not in (None, UNKNOWN)
                and not pod.managed_cpu_limit
                and not allowed(resource, config, "cpu-limit")
            ):
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
                    value = values.get(key)
                    parsed = quantity(value)
                    if maximum is not None and parsed is not None and parsed > maximum:
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
    """Every Pod Security Standards check of the configured level and version (default: restricted,
    v1.32); a finding is let off only by an exception naming its allowance."""
    level = str(config.get("pssLevel")) if config.get("pssLevel") in pss.LEVELS else "restricted"
    version = pss.parse_version(config.get("pssVersion"))
    out = []
    for pod in pod_specs(resource):
        for check, (path, problem, fix, allowance) in pss.findings(pod, level, version):
            if not allowed(resource, config, allowance):
                out.append(message(resource, path, f"{problem} (PSS {check.level}: {check.id})", fix))
    return out


def no_host_path(resource: Resource, config: Config) -> list[str]:
    """hostPath volumes expose the node's file system (PSS baseline: hostPathVolumes)."""
    out = []
    for pod in pod_specs(resource):
        for i, volume in enumerate(items(dig(pod.spec, "volumes"))):
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
        for path, container in pod.containers(("initContainers", "containers")):
            value = mapping(mapping(container).get("securityContext")).get("readOnlyRootFilesystem")
            unset = value is not True and value is not UNKNOWN and not (pod.partial and value is None)
            if unset and not allowed(resource, config, "writable-root"):
                out.append(
                    message(
                        resource,
                        f"{path}.securityContext.readOnlyRootFilesystem",
                        "the root file system is writable",
                        "set readOnlyRootFilesystem: true and mount emptyDirs where it writes",
                    )
                )
    return out


def image_problems(image: str, config: Config) -> list[tuple[str, str]]:
    """(problem, fix) for one image reference under the env's registry, tag and digest rules."""
    out = []
    registries = [str(r) for r in items(config.get("allowedRegistries"))]
    # a tag in a registry whose tags are immutable (the ECR mirror) cannot move, like a digest
    immutable = [str(r) for r in items(config.get("immutableTagRegistries"))]
    name, _, digest = image.partition("@")
    tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else None
    if not digest and tag in (None, "latest"):
        out.append((f"{image!r} has no pinned tag", "pin a version tag (or a digest)"))
    if config.get("requireDigest") is True and not digest and not image.startswith(tuple(immutable)):
        out.append((f"{image!r} is not pinned by digest", "reference the image as repository@sha256:..."))
    if registries and not image.startswith(tuple(registries)):
        out.append(
            (
                f"{image!r} is not from an allowed registry",
                f"pull it through the mirror ({', '.join(registries)})",
            )
        )
    return out


def images(resource: Resource, config: Config) -> list[str]:
    """A pinned tag (never latest; a digest where required) from an allowed registry, for every
    container, ephemeral container and custom resource image (FlinkDeployment ``spec.image``, ...)."""
    out = []
    for pod in pod_specs(resource):
        for path, container in pod.containers():
            image = mapping(container).get("image")
            if isinstance(image, str):
                out += [message(resource, f"{path}.image", p, f) for p, f in image_problems(image, config)]
    return out


def probes(resource: Resource, config: Config) -> list[str]:
    """Long-running workloads say when they are ready and when they are stuck."""
    if resource.kind not in LONG_RUNNING_KINDS or allowed(resource, config, "no-probes"):
        return []
    out = []
    for pod in pod_specs(resource):
        for path, container in pod.containers(("containers",)):
            for probe in ("readinessProbe", "livenessProbe"):
                if pod.missing(mapping(container).get(probe)):
                    out.append(
                        message(
                            resource,
                            f"{path}.{probe}",
                            f"no {probe}",
                            f"add a {probe} on the container's port",
                        )
                    )
    return out


def service_account_token(resource: Resource, config: Config) -> list[str]:
    """Pods do not get an API token unless they call the API server."""
    out = []
    for pod in pod_specs(resource):
        value = dig(pod.spec, "automountServiceAccountToken")
        if value is False or value is UNKNOWN or (value is None and pod.partial):
            continue
        if not allowed(resource, config, "service-account-token"):
            out.append(
                message(
                    resource,
                    f"{pod.path}.automountServiceAccountToken",
                    "the API token is mounted",
                    "set automountServiceAccountToken: false, or add a 'service-account-token' exception",
                )
            )
    return out
