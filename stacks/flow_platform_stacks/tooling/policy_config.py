"""``flow-platform policy-config <env>``: the policy pack's config of an environment, its exceptions
generated from the systems the stack deploys.

``policy/config/<env>.json`` holds two kinds of content. The policy settings (enforcement levels,
size caps, registries, storage classes) are fixed per environment and written by hand. The exceptions
(a workload allowed what a policy forbids, with the reason) and the privileged namespaces belong to
workloads, so they come from each system's :meth:`~flow_platform_stacks.systems.base.System.policy_exceptions`
for the block the stack file configures: a workload the env does not deploy has no exception there
(no dormant, pre-approved privilege), and a new workload's exception is not forgotten.
"""

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .harness import read_stack_file
from .render import StackFiles

if TYPE_CHECKING:
    from ..systems.base import PolicyException

EXCEPTIONS = "exceptions"
PRIVILEGED = "privilegedNamespaces"


def config_path(root: Path, environment: str) -> Path:
    return root / "policy" / "config" / f"{environment}.json"


def settings_of(config: dict[str, Any]) -> dict[str, Any]:
    """The fixed settings of a policy config: everything but what the systems generate."""
    from ..systems.base import PRIVILEGED_NAMESPACE

    fixed = copy.deepcopy(config)
    for name, policy in fixed.items():
        if isinstance(policy, dict):
            policy.pop(EXCEPTIONS, None)
            if name == PRIVILEGED_NAMESPACE:
                policy.pop(PRIVILEGED, None)
    return fixed


def exceptions_of(files: StackFiles) -> tuple[str, list["PolicyException"]]:
    """(environment, the exceptions of every system the stack file deploys, in registry order)."""
    from ..loader import check_texts
    from ..systems import REGISTRY

    texts, secret_keys = read_stack_file(files.stack_file, files.project_file)
    cfg = check_texts(files.stack, texts, secret_keys)
    found: list[PolicyException] = []
    for system in REGISTRY:
        block, namespace = cfg.system(system.name), cfg.namespace_of(system.name)
        if block is not None and namespace is not None:
            found += system.policy_exceptions(block, cfg.environment, namespace)
    return cfg.environment, found


def merged(committed: dict[str, Any], exceptions: list["PolicyException"]) -> dict[str, Any]:
    """``committed``'s fixed settings with ``exceptions`` (and the privileged namespaces) in place
    of whatever it held."""
    from ..systems.base import PRIVILEGED_NAMESPACE

    config = settings_of(committed)
    for exception in exceptions:
        policy = config.setdefault(exception.policy, {})
        if not isinstance(policy, dict):  # a bare level ("mandatory") becomes a mapping with settings
            policy = config[exception.policy] = {"enforcementLevel": policy}
        if exception.policy == PRIVILEGED_NAMESPACE:
            policy.setdefault(PRIVILEGED, []).append(exception.namespace)
            continue
        policy.setdefault(EXCEPTIONS, []).append(
            {
                "namespace": exception.namespace,
                "name": exception.name,
                "allow": list(exception.allow),
                "reason": exception.reason,
            }
        )
    return config


def dumps(config: dict[str, Any]) -> str:
    """The committed files' format: two-space JSON, one trailing newline."""
    return json.dumps(config, indent=2, ensure_ascii=False) + "\n"
