"""Container resource requirements and namespace limits, as plain dictionaries.

Memory always gets a limit (the kernel's OOM killer is the only alternative); CPU gets a
request and no limit unless asked, because CFS throttling stalls JVM engines (Flink, Tomcat)
long before they use their share.
"""

from typing import Any

from .quantity import Quantity


def container_resources(
    cpu_request: str | Quantity,
    memory_request: str | Quantity,
    memory_limit: str | Quantity | None = None,
    cpu_limit: str | Quantity | None = None,
) -> dict[str, Any]:
    """``resources`` for a container; the memory limit defaults to the request (Guaranteed memory)."""
    cpu_req = Quantity.parse(cpu_request)
    mem_req = Quantity.parse(memory_request)
    mem_lim = Quantity.parse(memory_limit) if memory_limit is not None else mem_req
    if mem_lim < mem_req:
        raise ValueError(f"memory limit {mem_lim} is below the request {mem_req}")
    limits: dict[str, str] = {"memory": str(mem_lim)}
    if cpu_limit is not None:
        cpu_lim = Quantity.parse(cpu_limit)
        if cpu_lim < cpu_req:
            raise ValueError(f"cpu limit {cpu_lim} is below the request {cpu_req}")
        limits["cpu"] = str(cpu_lim)
    return {"requests": {"cpu": str(cpu_req), "memory": str(mem_req)}, "limits": limits}


def limit_range_spec(
    default_request: dict[str, str],
    default_limit: dict[str, str],
    max_: dict[str, str],
    min_: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Container LimitRange: request-only pods get sane defaults, nothing exceeds ``max``.

    The seed's idea (pods with only a request still get a limit) with per-env bounds instead of
    the seed's 512Gi/64-CPU ceiling.
    """
    limit: dict[str, Any] = {
        "type": "Container",
        "defaultRequest": dict(sorted(default_request.items())),
        "default": dict(sorted(default_limit.items())),
        "max": dict(sorted(max_.items())),
    }
    if min_:
        limit["min"] = dict(sorted(min_.items()))
    return {"limits": [limit]}


def resource_quota_spec(hard: dict[str, str]) -> dict[str, Any]:
    """A ResourceQuota spec with keys sorted so renders stay byte-identical."""
    return {"hard": dict(sorted(hard.items()))}
