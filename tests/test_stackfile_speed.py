"""Stack files are parsed by libyaml where PyYAML has it, with every strictness check still in place."""

from pathlib import Path

import pytest
import yaml
from flow_platform_stacks import stackfile
from flow_platform_stacks.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML built without libyaml")
def test_stack_files_are_parsed_by_libyaml() -> None:
    assert issubclass(stackfile._StackFileLoader, yaml.CSafeLoader)


@pytest.mark.parametrize("env", ["dev", "tst", "uat", "prd", None])
def test_libyaml_reads_every_stack_file_as_the_pure_python_safe_loader_does(env: str | None) -> None:
    path = ROOT / (f"Pulumi.{env}.yaml" if env else "Pulumi.yaml")
    assert stackfile.load_yaml_file(path, "a stack file") == yaml.load(path.read_text(), yaml.SafeLoader)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "config:\n  a: 1\n  a: 2\n",
            "line 3, column 3: not valid YAML: duplicate key 'a' (first at line 2)",
        ),
        ("config:\n  a: [1\n  b: 2\n", "line 3"),
        ("a: &x [1, 2]\nb: *y\n", "not valid YAML"),
    ],
)
def test_errors_name_the_file_and_line_with_either_parser(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "Pulumi.mine.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        stackfile.load_yaml_file(path, "a stack file")
    assert "Pulumi.mine.yaml" in str(raised.value) and expected in str(raised.value)


def test_a_file_read_again_is_not_parsed_again_but_each_caller_gets_its_own_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "Pulumi.mine.yaml"
    path.write_text("config:\n  flow-platform:environment: dev-unique-20\n")
    first = stackfile.stack_file_config(path)
    parses: list[str] = []
    monkeypatch.setattr(stackfile, "_parse", lambda text, fail: parses.append(text))
    first["flow-platform:environment"] = "changed by a caller"
    assert stackfile.stack_file_config(path) == {"flow-platform:environment": "dev-unique-20"}
    assert parses == []
    path.write_text("config:\n  flow-platform:environment: tst-unique-20\n")  # same size, new text
    monkeypatch.undo()
    assert stackfile.stack_file_config(path) == {"flow-platform:environment": "tst-unique-20"}
