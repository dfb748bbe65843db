"""JVM sizing for the Flow headnode (``CATALINA_OPTS``), from the vendor's rules.

- distributed (remote workers run the jobs): the internal worker is capped by
  ``-DFLOW_WORKER_MEMORY_MB``/``-DFLOW_WORKER_CORES`` and the heap is a little under the request:
  7/8 of it in whole GiB (the seed's 16Gi gives ``-Xmx14g``), less if the internal worker and
  non-heap memory would not fit beside it;
- single-node (every job runs on the internal worker): no cores cap, the worker may use the whole
  request, and the heap is about a quarter of the request but never under 4 GiB.
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


def catalina_opts(
    memory_request: "str | Quantity",
    mode: "HeadnodeMode | str",
    worker_memory_mb: int = 1024,
    worker_cores: int = 2,
    truststore: bool = False,
    extra: Sequence[str] = (),
) -> str:
    """``CATALINA_OPTS`` for the headnode; raises :class:`SizingError` when it cannot fit."""
    if mode not in tuple(HeadnodeMode):
        raise SizingError(f"mode {mode!r} is not one of {', '.join(repr(m.value) for m in HeadnodeMode)}")
    request = int(Quantity.parse(memory_request).value)
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
        if heap + NON_HEAP_HEADROOM > request:
            raise SizingError(
                f"single-node needs a heap of at least 4g plus {NON_HEAP_HEADROOM // MIB} MiB beside it;"
                f" the memory request {Quantity.parse(memory_request)} is too small (use at least 5Gi)"
            )
        options = [f"-DFLOW_WORKER_MEMORY_MB={request // MIB}"]
    if truststore:
        options.append(f"-Djavax.net.ssl.trustStore={TRUSTSTORE_PATH}")
    options.append(_heap_flag(heap))
    options.extend(extra)
    return " ".join(options)
