"""The system seam (#11): everything that lists the systems is derived from the registry, and the
defects the hand-kept lists caused stay fixed."""

import re
from pathlib import Path
from typing import Any

import yaml
from flow_platform_stacks.config.stack import SYSTEMS, StackConfig
from flow_platform_stacks.outputs import EFS_SYSTEMS, SERVICE_KEYS, SYSTEM_KEYS, empty_outputs
from flow_platform_stacks.systems import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "stacks" / "flow_platform_stacks"


def test_pulumi_yaml_declares_exactly_the_config_keys_of_the_stack_config() -> None:
    """`pulumi config` documents every top-level key; a system missing there (or left over) fails."""
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    keys = {info.alias or name for name, info in StackConfig.model_fields.items()}
    assert set(declared) == keys
    for system in REGISTRY:
        assert declared[system.name] == {"type": "object", "description": system.description}


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
    assert list(systems) == list(SYSTEMS), "README systems table: one row per registry entry, in order"
    for system in REGISTRY:
        assert systems[system.name] == system.title


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
