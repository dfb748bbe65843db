"""The system seam (#11): everything that lists the systems is derived from the registry, and the
defects the hand-kept lists caused stay fixed."""

import copy
import re
from pathlib import Path
from typing import Any

import yaml
from conftest import raw_stack_yaml, run_config
from flow_platform_stacks.config.stack import SYSTEMS, StackConfig
from flow_platform_stacks.outputs import EFS_SYSTEMS, SERVICE_KEYS, SYSTEM_KEYS, empty_outputs
from flow_platform_stacks.systems import REGISTRY
from flow_platform_stacks.tooling.render import kubernetes_objects

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "stacks" / "flow_platform_stacks"


def test_pulumi_yaml_declares_exactly_the_config_keys_of_the_stack_config() -> None:
    """`pulumi config` documents every top-level key; a system missing there (or left over) fails."""
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    keys = {info.alias or name for name, info in StackConfig.model_fields.items()}
    assert set(declared) == keys, f"Pulumi.yaml config: {sorted(declared)}, the program: {sorted(keys)}"
    for system in REGISTRY:
        wanted = {"type": "object", "description": system.description}
        assert declared[system.name] == wanted, (
            f"Pulumi.yaml config.{system.name} should be:\n"
            + yaml.safe_dump({system.name: wanted}, sort_keys=False, width=1000)
        )


def _readme_systems_table() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    table = text.split("Systems it deploys", 1)[1].split("\n\n", 2)[1]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    return {
        match.group(1): match.group(2).strip()
        for row in rows
        if (match := re.match(r"\| `([a-z0-9-]+)` \|([^|]*)\|", row))
    }


def test_readme_systems_table_lists_the_registry() -> None:
    table = _readme_systems_table()
    systems = {name: what for name, what in table.items() if name != "aws"}
    rows = "\n".join(f"| `{s.name}` | {s.title} | deployed |" for s in REGISTRY)
    assert list(systems) == list(SYSTEMS), f"README systems table: one row per system, in order:\n{rows}"
    for system in REGISTRY:
        assert systems[system.name] == system.title, f"README systems table row:\n{rows}"


def test_stack_config_has_one_optional_block_per_system() -> None:
    fields = StackConfig.model_fields
    for system in REGISTRY:
        assert fields[system.name].annotation == system.config | None
        assert fields[system.name].default is None
    assert tuple(system.name for system in REGISTRY) == SYSTEMS


def test_outputs_shape_comes_from_the_registry() -> None:
    shape = empty_outputs()
    for system in REGISTRY:
        assert shape[system.name] == dict(system.outputs)
        assert shape["namespaces"][system.name] == ""
        for key in system.side_namespace_keys.values():
            assert shape["namespaces"][key] == ""
        for key in system.services:
            assert shape["services"][key] == ""
    assert set(SYSTEM_KEYS) == set(SYSTEMS)
    assert set(SERVICE_KEYS) == {key for system in REGISTRY for key in system.services}
    assert set(EFS_SYSTEMS) == {system.name for system in REGISTRY if system.uses_efs}


def test_namespace_resource_names_and_output_keys_are_unique() -> None:
    """Each guarded namespace is a NamespaceGuardrails named after its system or side namespace:
    one name twice would be one URN twice; one output key twice would hide a namespace."""
    resources = [system.name for system in REGISTRY]
    resources += [name for system in REGISTRY for name in system.side_namespace_keys]
    assert len(resources) == len(set(resources))
    keys = [key for system in REGISTRY for key in (system.name, *system.side_namespace_keys.values())]
    assert len(keys) == len(set(keys))
    services = [key for system in REGISTRY for key in system.services]
    assert len(services) == len(set(services))


def test_the_program_names_no_system() -> None:
    """program.py and outputs.py loop over the registry; a system name there is a hand-kept list."""
    for module in ("program.py", "outputs.py", "config/stack.py"):
        text = (PACKAGE / module).read_text().lower()
        for name in SYSTEMS:
            assert not re.search(rf"\b{name}\b", text), f"{module} names {name!r}"


def test_flink_without_efs_is_a_config_error_before_anything_is_registered(bad_config: Any) -> None:
    """Flink's HA/checkpoint claim is an EFS volume: without aws.efs the stack used to fail with
    an AssertionError in aws_foundation.py after resources were registered."""

    def no_efs(config: dict[str, Any]) -> None:
        del config["flow-platform:aws"]["efs"]
        config["flow-platform:partek"]["home"] = {"storageClass": "efs-sc"}
        config["flow-platform:hyperflow"]["enabled"] = False

    result = bad_config("tst", no_efs)
    assert result.message.startswith("invalid configuration for stack 'tst' (1 problem(s))")
    assert "flow-platform:flink: needs aws.efs" in result.message
    assert "disable flink (enabled: false)" in result.message
    assert result.registered == []


def test_every_system_missing_efs_is_reported_at_once(bad_config: Any) -> None:
    result = bad_config("uat", lambda config: config["flow-platform:aws"].pop("efs"))
    assert "flow-platform:partek.home.efs: needs aws.efs" in result.message
    assert "flow-platform:flink: needs aws.efs" in result.message
    assert result.registered == []


def test_a_side_namespace_equal_to_a_system_namespace_is_a_config_error(bad_config: Any) -> None:
    """Two NamespaceGuardrails with one name used to be registered."""

    def clash(config: dict[str, Any]) -> None:
        config["flow-platform:hyperflow"]["storage"]["namespace"] = "partek-dev"

    result = bad_config("dev", clash)
    assert (
        "flow-platform:hyperflow.storage.namespace: 'partek-dev' is already the namespace of partek"
        in result.message
    )
    assert result.registered == []


def test_two_side_namespaces_may_not_share_a_name(bad_config: Any) -> None:
    def clash(config: dict[str, Any]) -> None:
        config["flow-platform:flink"]["operator"]["namespace"] = "partek-license-dev"

    result = bad_config("dev", clash)
    assert "flow-platform:flink.operator.namespace: 'partek-license-dev' is already the namespace of" in (
        result.message
    )
    assert result.registered == []


TRAEFIK = {"className": "traefik", "namespace": "traefik", "podLabels": {"app.kubernetes.io/name": "traefik"}}


def _peers_from(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [peer for rule in policy["spec"].get("ingress", []) for peer in rule.get("from", [])]


def _namespace_peer(peer: dict[str, Any]) -> str | None:
    labels = (peer.get("namespaceSelector") or {}).get("matchLabels") or {}
    return labels.get("kubernetes.io/metadata.name")


def test_the_ingress_controller_is_configured_once_for_every_system() -> None:
    """kubernetes.ingressController sets the IngressClass and the allow rules of Partek and Flink."""
    config = copy.deepcopy(raw_stack_yaml("uat")["config"])
    config["flow-platform:kubernetes"]["ingressController"] = TRAEFIK
    registrations = run_config("uat", config)
    objects = kubernetes_objects(registrations)
    partek = next(o for o in objects if o["kind"] == "Ingress")
    assert partek["spec"]["ingressClassName"] == "traefik"
    flink = next(o for o in objects if o["kind"] == "FlinkDeployment")
    assert flink["spec"]["ingress"]["className"] == "traefik"
    controller_peers = {
        o["metadata"]["namespace"]: peer
        for o in objects
        if o["kind"] == "NetworkPolicy"
        for peer in _peers_from(o)
        if _namespace_peer(peer) in ("traefik", "ingress-nginx")
    }
    assert set(controller_peers) == {"partek-flow-uat", "flink-uat"}
    assert all(_namespace_peer(peer) == "traefik" for peer in controller_peers.values())
    assert controller_peers["partek-flow-uat"]["podSelector"]["matchLabels"] == TRAEFIK["podLabels"]


def test_the_former_per_system_ingress_controller_keys_say_where_they_moved(bad_config: Any) -> None:
    def old_key(config: dict[str, Any]) -> None:
        config["flow-platform:partek"]["ingress"]["controllerNamespace"] = "traefik"

    result = bad_config("dev", old_key)
    assert (
        "flow-platform:partek.ingress.controllerNamespace: moved to kubernetes.ingressController.namespace"
        in result.message
    )
    assert result.registered == []


def test_the_image_mirror_namespace_may_not_be_a_system_namespace(bad_config: Any) -> None:
    def clash(config: dict[str, Any]) -> None:
        config["flow-platform:hyperflow"]["namespace"] = "image-mirror-prd"

    result = bad_config("prd", clash)
    assert (
        "flow-platform:aws.ecr.copyJob.namespace: 'image-mirror-prd' is already the namespace of hyperflow"
        in result.message
    )
    assert result.registered == []
