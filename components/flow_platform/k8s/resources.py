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


def api_server_limit_range_item(item: dict[str, Any]) -> dict[str, Any]:
    """A Container LimitRange item as the API server stores it, after its defaulting.

    Mirrors ``SetDefaults_LimitRangeItem`` (kubernetes pkg/apis/core/v1/defaults.go, v1.32): a
    ``max`` without a ``default`` becomes the default limit, a ``default`` without a
    ``defaultRequest`` becomes the default request, and a ``min`` without a ``defaultRequest``
    becomes the default request.
    """
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in item.items()}
    if out.get("type") != "Container":
        return out
    default = dict(out.get("default", {}))
    request = dict(out.get("defaultRequest", {}))
    for key, value in out.get("max", {}).items():
        default.setdefault(key, value)
    for key, value in default.items():
        request.setdefault(key, value)
    for key, value in out.get("min", {}).items():
        request.setdefault(key, value)
    out["default"] = dict(sorted(default.items()))
    out["defaultRequest"] = dict(sorted(request.items()))
    return out


def admitted_container_resources(resources: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """A container's ``resources`` after the LimitRanger admission plugin, and its refusals.

    Mirrors plugin/pkg/admission/limitranger (v1.32): missing limits and requests are filled from
    the stored item's ``default``/``defaultRequest`` (see :func:`api_server_limit_range_item`); then
    every ``max`` key needs a limit no larger than it. Raises ``ValueError`` on a refusal.
    """
    stored = api_server_limit_range_item(item)
    limits = {**stored.get("default", {}), **resources.get("limits", {})}
    requests = {**stored.get("defaultRequest", {}), **resources.get("requests", {})}
    for key, maximum in stored.get("max", {}).items():
        if key not in limits:
            raise ValueError(f"Maximum {key} usage per Container is {maximum}.  No limit is specified.")
        if Quantity.parse(limits[key]) > Quantity.parse(maximum):
            raise ValueError(f"Maximum {key} usage per Container is {maximum}, but limit is {limits[key]}.")
        if key in requests and Quantity.parse(requests[key]) > Quantity.parse(maximum):
            raise ValueError(
                f"Maximum {key} usage per Container is {maximum}, but request is {requests[key]}."
            )
    admitted: dict[str, Any] = {}
    if requests:
        admitted["requests"] = dict(sorted(requests.items()))
    if limits:
        admitted["limits"] = dict(sorted(limits.items()))
    return admitted


def limit_range_spec(
    default_request: dict[str, str],
    default_limit: dict[str, str],
    max_: dict[str, str],
    min_: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Container LimitRange: request-only pods get sane defaults, nothing exceeds ``max``.

    Rendered as the API server stores it, so what the program shows is what admission applies.
    The CPU decision: a ``max.cpu`` makes the API server default every container's CPU limit to it
    and forces every container to carry one, which would silently undo "no CPU limit" for the JVM
    engines. So ``max.cpu`` reaches the LimitRange only where the namespace opts into CPU limits
    (``default_limit`` has ``cpu``); elsewhere a container's CPU is bounded by the config checks
    (requests against ``limits.max.cpu``) and the ResourceQuota's ``requests.cpu``.
    """
    maximum = dict(max_)
    if "cpu" not in default_limit:
        maximum.pop("cpu", None)
    limit: dict[str, Any] = {
        "type": "Container",
        "defaultRequest": dict(sorted(default_request.items())),
        "default": dict(sorted(default_limit.items())),
        "max": dict(sorted(maximum.items())),
    }
    if min_:
        limit["min"] = dict(sorted(min_.items()))
    return {"limits": [api_server_limit_range_item(limit)]}


def resource_quota_spec(hard: dict[str, str]) -> dict[str, Any]:
    """A ResourceQuota spec with keys sorted so renders stay byte-identical."""
    return {"hard": dict(sorted(hard.items()))}
