"""Operators a system installs: one installer of their cluster-wide parts per cluster, and the
namespaces each stack's operator watches. Flink's operator uses it; the Spark operator next.

A system declares what it installs with :meth:`~flow_platform_stacks.systems.base.System.operators`
(one :class:`OperatorInstall` per operator, from its validated block). Every stack of a cluster
runs its own operator watching only its own namespaces, so no stack writes into another's
namespace and destroying one environment leaves the others' running. The CRDs are cluster-wide:
exactly one stack per cluster owns them. :func:`plan` checks that against the project's other
stacks, read through the same config models and :class:`~.systems.base.System` declarations (never
by hand), before anything is registered: none or two owners is a config error naming the stacks.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError, Problem

if TYPE_CHECKING:
    from .config.stack import StackConfig


@dataclass(frozen=True)
class OperatorInstall:
    """One stack's installation of one operator on one cluster."""

    operator: str
    """The operator's key (``flink``): the same in every stack that installs it."""
    title: str
    """How messages name it (``Flink``)."""
    cluster: str
    """The Kubernetes cluster it runs on; the stacks of one cluster share its CRDs."""
    owns_crds: bool
    """This stack installs the cluster-wide parts (the CRDs): exactly one stack per cluster does."""
    owner_key: tuple[str, ...]
    """The key that declares ownership, from the top of the stack config (``flink.operator.manageCrds``)."""
    watched: tuple[str, ...]
    """The namespaces this stack's operator watches (its own)."""


@dataclass(frozen=True)
class _Peer:
    stack: str
    owns_crds: bool


def installs(cfg: "StackConfig") -> list[OperatorInstall]:
    """Every operator a validated stack config installs, in registry order."""
    from .systems import REGISTRY

    found: list[OperatorInstall] = []
    for system in REGISTRY:
        block, namespace = cfg.system(system.name), cfg.namespace_of(system.name)
        if block is not None and namespace is not None:
            found += system.operators(block, namespace)
    return found


_PEERS: dict[str, list[tuple[str, str, bool]] | str] = {}
"""Stack file text -> that stack's (operator, cluster, owns CRDs), or why it is
ignored: every evaluation reads the other stacks, each validated once per process."""


def _stack_config(path: Path) -> "StackConfig":
    """Another stack's validated config, read as :mod:`.loader` reads this one's (secrets, which
    cannot be decrypted offline, as the mask)."""
    from . import PROJECT
    from .errors import SECRET_MASK
    from .loader import validate
    from .stackfile import stack_file_config, stack_name_of

    def plain(value: object) -> tuple[object, bool]:
        if isinstance(value, dict):
            if set(value) == {"secure"}:
                return SECRET_MASK, True
            items = {k: plain(v) for k, v in value.items()}
            return {k: v for k, (v, _) in items.items()}, any(s for _, s in items.values())
        if isinstance(value, list):
            values = [plain(v) for v in value]
            return [v for v, _ in values], any(s for _, s in values)
        return value, False

    raw: dict[str, object] = {}
    secrets: set[str] = set()
    for key, value in stack_file_config(path).items():
        namespace, _, name = key.rpartition(":")
        if namespace in ("", PROJECT) and ":" not in name:
            raw[name], secret = plain(value)
            if secret:
                secrets.add(name)
    return validate(stack_name_of(path), raw, secrets)


def _installs_of(path: Path) -> list[tuple[str, str, bool]] | str:
    try:
        key = path.read_text(errors="replace")
    except OSError as error:
        return str(error)
    if key not in _PEERS:
        try:
            _PEERS[key] = [(i.operator, i.cluster, i.owns_crds) for i in installs(_stack_config(path))]
        except ConfigError as error:
            _PEERS[key] = str(error).strip().splitlines()[-1].strip()
    return _PEERS[key]


def _peers(project_dir: Path, stack: str, titles: Mapping[str, str]) -> dict[tuple[str, str], list[_Peer]]:
    """The other stacks' installs by (operator, cluster); a stack that cannot be read is warned about
    (naming each plan it is left out of) and ignored: it is that stack's problem, not this one's."""
    import pulumi  # here, not at module level: the CLI's --help imports no SDK

    grouped: dict[tuple[str, str], list[_Peer]] = {}
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        name = path.name.split(".")[1]
        if name == stack:
            continue
        found = _installs_of(path)
        if isinstance(found, str):
            for title in titles.values():
                pulumi.log.warn(f"{path.name} is ignored for the {title} operator plan: {found}")
            continue
        for operator, cluster, owns in found:
            grouped.setdefault((operator, cluster), []).append(_Peer(name, owns))
    return grouped


def plan(project_dir: Path, stack: str, own: Sequence[OperatorInstall]) -> dict[str, tuple[str, ...]]:
    """Per operator this stack installs, the namespaces it watches; a :class:`ConfigError` unless
    exactly one stack of each cluster owns that operator's CRDs."""
    if not own:
        return {}
    import pulumi

    peers = _peers(project_dir, stack, {i.operator: i.title for i in own})
    watched: dict[str, tuple[str, ...]] = {}
    for install in own:
        cluster, title = install.cluster, install.title
        stacks = [_Peer(stack, install.owns_crds), *peers.get((install.operator, cluster), [])]
        owners = sorted(p.stack for p in stacks if p.owns_crds)
        setting = install.owner_key[-1]
        if len(owners) > 1 and stack not in owners:
            # not this stack's conflict: the owners' own renders fail
            pulumi.log.warn(
                f"stacks {', '.join(owners)} all manage the {title} CRDs of cluster {cluster!r};"
                " exactly one of them may"
            )
        elif len(owners) > 1:
            raise ConfigError(
                stack,
                [
                    Problem(
                        install.owner_key,
                        f"stacks {', '.join(owners)} all manage the {title} CRDs of cluster"
                        f" {cluster!r}: the stacks of one cluster must agree, so set {setting}: true in"
                        " exactly one of them (stack files of this project are read for this only)",
                    )
                ],
            )
        if not owners:
            raise ConfigError(
                stack,
                [
                    Problem(
                        install.owner_key,
                        f"no stack manages the {title} CRDs of cluster {cluster!r}:"
                        f" set {setting}: true in exactly one stack of that cluster",
                    )
                ],
            )
        watched[install.operator] = install.watched
    return watched
