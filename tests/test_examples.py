"""The example programs in examples/: Python runs under mocks; YAML and TypeScript match the schema."""

import json
import re
import runpy
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import DATA, ROOT
from flow_platform import provider
from flow_platform_stacks.tooling.harness import run_program

EXAMPLES = ROOT / "examples"
INTERPOLATION = re.compile(r"\$\{([A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)\}")


def _schema() -> dict[str, Any]:
    return dict(json.loads((ROOT / provider.SCHEMA_FILE).read_text()))


def test_the_python_example_chains_two_components_under_mocks() -> None:
    def program() -> None:
        runpy.run_path(str(EXAMPLES / "python" / "__main__.py"), run_name="__main__")

    password = {"flow-platform:redisPassword": "example-password-0123456789"}
    registrations = run_program("dev", password, list(password), program=program)
    by_type = {r.type: r for r in registrations}
    assert "flow-platform:index:NamespaceGuardrails" in by_type
    assert "flow-platform:index:HyperflowRedis" in by_type
    [namespace] = [r for r in registrations if r.type == "kubernetes:core/v1:Namespace"]
    assert namespace.inputs["metadata"]["name"] == "workflows-dev"
    redis = [r for r in registrations if r.type == "kubernetes:apps/v1:Deployment"]
    assert [d.inputs["metadata"]["namespace"] for d in redis] == ["workflows-dev"]
    assert redis[0].inputs["spec"]["template"]["spec"]["containers"][0]["image"] == "redis:7.2.5"


def _check_properties(
    where: str, given: dict[str, Any], definition: dict[str, Any], schema: dict[str, Any]
) -> None:
    properties = definition.get("inputProperties", definition.get("properties", {}))
    required = definition.get("requiredInputs", definition.get("required", []))
    unknown = sorted(set(given) - set(properties))
    assert not unknown, f"{where}: not inputs of the schema: {unknown}"
    missing = sorted(set(required) - set(given))
    assert not missing, f"{where}: required inputs missing: {missing}"
    for name, value in given.items():
        prop = properties[name]
        ref = prop.get("$ref", "").removeprefix("#/types/")
        if ref in schema["types"] and "enum" in schema["types"][ref] and not str(value).startswith("${"):
            allowed = [e["value"] for e in schema["types"][ref]["enum"]]
            assert value in allowed, f"{where}.{name}: {value!r} is not one of {allowed}"
        elif ref in schema["types"] and isinstance(value, dict):
            _check_properties(f"{where}.{name}", value, schema["types"][ref], schema)
        elif prop.get("type") == "object":
            assert isinstance(value, dict), f"{where}.{name}: expected a map"
            assert all(isinstance(v, str) for v in value.values()), f"{where}.{name}: quote every value"
        elif prop.get("type") == "string" and not isinstance(value, str):
            pytest.fail(f"{where}.{name}: expected a string, got {value!r} (quote it)")


def test_the_yaml_example_uses_only_the_schemas_tokens_inputs_and_outputs() -> None:
    schema = _schema()
    text = (EXAMPLES / "yaml" / "Pulumi.yaml").read_text()
    program = yaml.safe_load(text)
    project_schema = json.loads((DATA / "schemas" / "project.json").read_text())
    jsonschema.Draft202012Validator(project_schema).validate(program)
    assert program["packages"] == {"flow-platform": "../.."}
    resources: dict[str, Any] = program["resources"]
    types = {name: r["type"] for name, r in resources.items()}
    assert len({t for t in types.values() if t.startswith("flow-platform:")}) >= 2
    for name, resource in resources.items():
        assert resource["type"] in schema["resources"], f"{name}: unknown type {resource['type']}"
        _check_properties(name, resource.get("properties", {}), schema["resources"][resource["type"]], schema)
    for target, output in INTERPOLATION.findall(text):
        if target == "pulumi":
            continue
        assert output in schema["resources"][types[target]]["properties"], f"${{{target}.{output}}}"


def test_the_typescript_example_uses_the_schemas_components_and_outputs() -> None:
    schema = _schema()
    source = (EXAMPLES / "typescript" / "index.ts").read_text()
    classes = re.findall(r"new flowplatform\.(\w+)\(", source)
    assert len(set(classes)) >= 2
    tokens = {f"flow-platform:index:{c}" for c in classes}
    assert tokens <= set(schema["resources"])
    outputs = set(re.findall(r"\b(?:team|state)\.(\w+)", source))
    known = {p for t in tokens for p in schema["resources"][t]["properties"]}
    assert outputs <= known, outputs - known
    project = yaml.safe_load((EXAMPLES / "typescript" / "Pulumi.yaml").read_text())
    assert project["packages"] == {"flow-platform": "../.."}


def _readme_section_blocks(language: str) -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Use the components from another project", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, re.DOTALL)


def test_the_readmes_python_snippet_runs_under_mocks() -> None:
    [snippet] = _readme_section_blocks("python")

    def program() -> None:
        exec(compile(snippet, "README.md", "exec"), {"__name__": "__main__"})

    password = {"flow-platform:redisPassword": "example-password-0123456789"}
    registrations = run_program("dev", password, list(password), program=program)
    components = sorted(r.type for r in registrations if r.type.startswith("flow-platform:"))
    assert components == ["flow-platform:index:HyperflowRedis", "flow-platform:index:NamespaceGuardrails"]
    [deployment] = [r for r in registrations if r.type == "kubernetes:apps/v1:Deployment"]
    assert deployment.inputs["metadata"]["namespace"] == "workflows-dev"
    assert deployment.provider and "k8s" in deployment.provider, "the snippet's provider reaches the children"


def _typescript_calls(source: str) -> list[tuple[str, set[str]]]:
    """(component, input names) of each ``new flowplatform.X("name", {...});`` in a TypeScript source."""
    calls = re.findall(r"new flowplatform\.(\w+)\(\"[\w-]+\", \{(.*?)\}\);", source, re.DOTALL)
    # nested object literals (maps such as quota) are not inputs: blank them before reading the keys
    keys = []
    for component, body in calls:
        flat = re.sub(r"\{[^{}]*\}", "{}", re.sub(r"//[^\n]*", "", body))
        keys.append((component, set(re.findall(r"(?:^|[,{])\s*(\w+)\s*:", flat))))
    return keys


def _assert_typescript_inputs_exist(source: str) -> None:
    schema = _schema()
    calls = _typescript_calls(source)
    assert [component for component, _ in calls] == ["NamespaceGuardrails", "HyperflowRedis"]
    for component, keys in calls:
        resource = schema["resources"][f"flow-platform:index:{component}"]
        assert keys <= set(resource["inputProperties"]), (component, keys - set(resource["inputProperties"]))
        assert set(resource["requiredInputs"]) <= keys, (component, set(resource["requiredInputs"]) - keys)


def test_the_readmes_typescript_snippet_names_schema_inputs() -> None:
    [snippet] = _readme_section_blocks("typescript")
    _assert_typescript_inputs_exist(snippet)


def test_the_typescript_example_passes_schema_inputs() -> None:
    _assert_typescript_inputs_exist((EXAMPLES / "typescript" / "index.ts").read_text())
