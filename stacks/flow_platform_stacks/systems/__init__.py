"""The systems a stack may deploy, one package each behind :class:`~.base.System`.

Adding a system: a ``systems/<name>/`` package exporting ``SYSTEM``, its component package under
``components/flow_platform/<name>/``, one line below, its blocks in ``Pulumi.<env>.yaml``, and its
tests. Config, outputs, images, the EFS rule, namespace checks and Pulumi.yaml follow from here.
"""

from typing import Any

from . import eventflow, flink, hyperflow, openflow, partek
from .base import StackContext, System, SystemResult

REGISTRY: tuple[System[Any], ...] = (
    partek.SYSTEM,
    flink.SYSTEM,
    hyperflow.SYSTEM,
    openflow.SYSTEM,
    eventflow.SYSTEM,
)
"""Every system, in deployment order (resources are registered in this order)."""

__all__ = ["REGISTRY", "StackContext", "System", "SystemResult"]
