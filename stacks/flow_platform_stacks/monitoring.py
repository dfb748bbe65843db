"""The stack's NFR monitoring: :class:`flow_platform.monitoring.NfrRules` over the measured namespaces."""

from collections.abc import Sequence

import pulumi
from flow_platform.monitoring import NfrRules

from .config.monitoring import nfr_namespaces
from .config.stack import StackConfig


def deploy(
    cfg: StackConfig, opts: pulumi.ResourceOptions, depends_on: Sequence[pulumi.Resource] = ()
) -> NfrRules | None:
    """The rules and reader Roles, after the measured namespaces exist (``depends_on``)."""
    block = cfg.monitoring
    if block is None or not block.enabled:
        return None
    namespaces = nfr_namespaces(cfg)
    if not namespaces:  # no enabled system measures NFRs: nothing to monitor
        return None
    return NfrRules(
        "nfr",
        {
            "namespace": block.rule_namespace or namespaces[0],
            "env": cfg.environment,
            "namespaces": namespaces,
            "rule_labels": block.rule_labels,
            "ulimit_threshold": block.ulimit_threshold,
            "max_restarts": block.targets.max_restarts,
            "min_ulimit_percent": block.targets.min_ulimit_percent,
            "readers": [reader.as_args() for reader in block.readers],  # type: ignore[misc]
        },
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(depends_on))),
    )
