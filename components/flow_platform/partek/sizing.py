"""JVM sizing for the Flow headnode (``CATALINA_OPTS``), from the vendor's rules.

- distributed (remote workers run the jobs): the internal worker is capped by
  ``-DFLOW_WORKER_MEMORY_MB``/``-DFLOW_WORKER_CORES`` and the heap is a little under the request:
  7/8 of it in whole GiB (the seed's 16Gi gives ``-Xmx14g``), less if the internal worker and
  non-heap memory would not fit beside it;
- single-node (every job runs on the internal worker): no cores cap, the heap is about a quarter of
  the request but never under 4 GiB, and the internal worker gets what is left of the container's
  memory *limit* after the heap and non-heap memory (at most the request, the vendor's figure). The
  worker's jobs, the heap and the JVM's own memory all count against one cgroup limit: giving the
  worker the whole request beside the heap would be an OOM kill waiting to happen.
"""

import math
from collections.abc import Sequence
from enum import StrEnum

from ..k8s.quantity import GIB, MIB, Quantity


class HeadnodeMode(StrEnum):
    """Where Partek Flow runs its jobs."""

    SINGLE_NODE = "single-node"
    """Every job runs on the headnode's internal worker; no remote workers."""
    DISTRIBUTED = "distributed"
    """Remote workers run the jobs; the internal worker is capped by FLOW_WORKER_MEMORY_MB/CORES."""


SINGLE_NODE = HeadnodeMode.SINGLE_NODE
DISTRIBUTED = HeadnodeMode.DISTRIBUTED

TRUSTSTORE_PATH = "/etc/flowconfig/cacerts"
MIN_SINGLE_NODE_HEAP = 4 * GIB
NON_HEAP_HEADROOM = 512 * MIB
"""Metaspace, thread stacks and native buffers need room beside the heap inside the request."""
MIN_SINGLE_NODE_WORKER_MB = 1024
"""Below this the internal worker cannot run a real job: a config error, not a silent tiny worker."""


class SizingError(ValueError):
    """The requested memory cannot hold the heap the mode needs."""


def _heap_flag(heap_bytes: int) -> str:
    if heap_bytes % GIB == 0:
        return f"-Xmx{heap_bytes // GIB}g"
    return f"-Xmx{heap_bytes // MIB}m"


def _whole_gib(value: float) -> int:
    return math.floor(value / GIB) * GIB


def heap_bytes(
    memory_request: "str | Quantity", mode: "HeadnodeMode | str", worker_memory_mb: int = 1024
) -> int:
    """The headnode's ``-Xmx`` in bytes for a memory request and mode (before fit checks)."""
    request = int(Quantity.parse(memory_request).value)
    if mode == DISTRIBUTED:
        beside = worker_memory_mb * MIB + NON_HEAP_HEADROOM
        return min(_whole_gib(request * 7 / 8), _whole_gib(request - beside))
    return max(MIN_SINGLE_NODE_HEAP, _whole_gib(request / 4))


def single_node_worker_mb(
    memory_request: "str | Quantity", memory_limit: "str | Quantity | None" = None
) -> int:
    """The single-node internal worker's memory: the limit minus heap and non-heap, capped at the request."""
    request = int(Quantity.parse(memory_request).value)
    limit = int(Quantity.parse(memory_limit).value) if memory_limit is not None else request
    if limit < request:
        raise SizingError(f"the memory limit {memory_limit} is below the request {memory_request}")
    heap = heap_bytes(memory_request, SINGLE_NODE)
    return int(min(request, limit - heap - NON_HEAP_HEADROOM) // MIB)


def catalina_opts(
    memory_request: "str | Quantity",
    mode: "HeadnodeMode | str",
    worker_memory_mb: int = 1024,
    worker_cores: int = 2,
    truststore: bool = False,
    extra: Sequence[str] = (),
    memory_limit: "str | Quantity | None" = None,
) -> str:
    """``CATALINA_OPTS`` for the headnode; raises :class:`SizingError` when it cannot fit.

    Everything the JVM and its internal worker may use fits inside ``memory_limit`` (default: the
    request), so the container is never OOM-killed by its own sizing.
    """
    if mode not in tuple(HeadnodeMode):
        raise SizingError(f"mode {mode!r} is not one of {', '.join(repr(m.value) for m in HeadnodeMode)}")
    for option in extra:
        if option.startswith(("-Xmx", "-Xms", "-XX:MaxRAMPercentage", "-DFLOW_WORKER_")):
            raise SizingError(
                f"extra JVM option {option!r} would override the sizing computed from the memory request;"
                " change headnode.memory (or workerMemoryMb/workerCores) instead"
            )
    heap = heap_bytes(memory_request, mode, worker_memory_mb)
    if mode == DISTRIBUTED:
        if worker_memory_mb < 256 or worker_cores < 1:
            raise SizingError("the internal worker needs at least 256 MB and 1 core")
        if heap < GIB:
            raise SizingError(
                f"a 1g heap, the internal worker's {worker_memory_mb} MB and {NON_HEAP_HEADROOM // MIB} MiB"
                f" of non-heap memory do not fit in the memory request {Quantity.parse(memory_request)}"
            )
        options = [f"-DFLOW_WORKER_MEMORY_MB={worker_memory_mb}", f"-DFLOW_WORKER_CORES={worker_cores}"]
    else:
        worker_mb = single_node_worker_mb(memory_request, memory_limit)
        if worker_mb < MIN_SINGLE_NODE_WORKER_MB:
            limit = memory_limit if memory_limit is not None else memory_request
            raise SizingError(
                f"single-node needs a heap of at least 4g, {NON_HEAP_HEADROOM // MIB} MiB of non-heap memory"
                f" and at least {MIN_SINGLE_NODE_WORKER_MB} MB for the internal worker inside the memory"
                f" limit; {Quantity.parse(limit)} is too small (use at least 6Gi)"
            )
        options = [f"-DFLOW_WORKER_MEMORY_MB={worker_mb}"]
    if truststore:
        options.append(f"-Djavax.net.ssl.trustStore={TRUSTSTORE_PATH}")
    options.append(_heap_flag(heap))
    options.extend(extra)
    return " ".join(options)


HOME_NOMINAL_CAPACITY = "1Ti"
"""The static EFS claim's capacity: nominal (EFS is elastic), and fixed because Kubernetes refuses to
resize a claim that has no StorageClass. Never change it: that change itself would be refused."""
