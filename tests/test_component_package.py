"""The component package other Pulumi languages use: schema, plugin entry point, reference docs."""

import functools
import importlib
import json
import pkgutil
import re
import select
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import flow_platform
import grpc
import jsonschema
import pulumi
import pytest
import yaml
from component_args import MINIMAL
from conftest import DATA, ROOT
from flow_platform import provider
from flow_platform.k8s.chart import PARSED_CRDS, load_crds, parsed_crds_text
from flow_platform.reference import markdown, split_default
from flow_platform_stacks.tooling.harness import run_program
from google.protobuf import empty_pb2
from pulumi.provider.experimental.util import camel_case
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

TOKEN = "flow-platform:index:{}"


@functools.cache
def _schema_text() -> str:
    return provider.schema()


def _schema() -> dict[str, Any]:
    return dict(json.loads(_schema_text()))


def _public_components() -> set[type[pulumi.ComponentResource]]:
    """Every ComponentResource class defined anywhere in the flow_platform package."""
    found: set[type[pulumi.ComponentResource]] = set()
    for module_info in pkgutil.walk_packages(flow_platform.__path__, "flow_platform."):
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, pulumi.ComponentResource)
                and value.__module__.startswith("flow_platform.")
            ):
                found.add(value)
    return found


def test_the_schema_is_a_valid_pulumi_package_schema() -> None:
    metaschema_text = (DATA / "schemas" / "package-metaschema.json").read_text()
    # the metaschema uses Go-style named groups; Python's re spells them (?P<name>...)
    metaschema = json.loads(metaschema_text.replace("(?<", "(?P<"))
    jsonschema.Draft202012Validator(metaschema).validate(_schema())


def test_every_public_component_is_hosted_under_its_type_token() -> None:
    components = _public_components()
    assert set(provider.COMPONENTS) == components, "a component missing from provider.COMPONENTS"
    assert set(_schema()["resources"]) == {TOKEN.format(c.__name__) for c in components}
    assert set(MINIMAL) == components, "tests/component_args.py lacks a component"


@pytest.mark.parametrize("component", provider.COMPONENTS, ids=lambda c: c.__name__)
def test_required_inputs_are_the_args_required_keys(component: type[pulumi.ComponentResource]) -> None:
    args_type = importlib.import_module(component.__module__).ARGS.typed_dict
    resource = _schema()["resources"][TOKEN.format(component.__name__)]
    assert resource["isComponent"] is True
    assert sorted(resource.get("requiredInputs", [])) == sorted(
        camel_case(k) for k in args_type.__required_keys__
    )
    assert resource["requiredInputs"], "a component without required inputs"
    for name, prop in resource["inputProperties"].items():
        assert prop.get("description"), f"{name} has no description"
        if name not in resource["requiredInputs"]:
            assert split_default(prop["description"])[1], (
                f"{component.__name__}.{name} is optional: end its docstring with 'Default: ``<value>``.'"
                " (or 'Default: none (<what happens>).')"
            )
    for name, prop in resource["properties"].items():
        assert prop.get("description"), f"output {name} has no description"


def test_every_type_and_enum_member_is_described() -> None:
    for token, definition in _schema()["types"].items():
        assert definition.get("description"), token
        for member in definition.get("enum", []):
            assert member.get("description"), f"{token}.{member['name']}"
        for name, prop in definition.get("properties", {}).items():
            assert prop.get("description"), f"{token}.{name}"


def test_each_component_registers_the_type_token_the_schema_names() -> None:
    """Built with only its required args under mocks: defaults fill the rest; the token matches."""

    def program() -> None:
        for component, args in MINIMAL.items():
            component(f"min-{component.__name__.lower()}", args)  # type: ignore[call-arg]

    registrations = run_program("lib", {}, [], program=program)
    components = {r.type for r in registrations if r.type.startswith("flow-platform:")}
    assert components == set(_schema()["resources"])


def test_the_version_is_pyprojects() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert _schema()["name"] == project["name"] == "flow-platform"
    assert _schema()["version"] == project["version"]


def test_the_committed_schema_json_is_current() -> None:
    committed = (ROOT / provider.SCHEMA_FILE).read_text()
    assert committed == provider.schema_file_text(_schema_text()), (
        "schema.json is stale: run `python -m flow_platform.provider write`"
    )


def test_the_committed_reference_docs_are_current() -> None:
    committed = (ROOT / provider.DOCS_FILE).read_text()
    assert committed == markdown(_schema()), (
        "docs/components.md is stale: run `python -m flow_platform.provider write`"
    )


@pytest.mark.parametrize("chart", provider.vendored_charts(), ids=lambda c: c[0].parent.name)
def test_the_committed_parsed_crds_are_the_vendored_yaml(chart: tuple[Path, str]) -> None:
    chart_dir, pattern = chart
    committed = (chart_dir / PARSED_CRDS).read_text()
    assert committed == parsed_crds_text(chart_dir, pattern), (
        f"{chart_dir / PARSED_CRDS} is stale: run `python -m flow_platform.provider write`"
    )
    from_yaml = [yaml.safe_load(p.read_text()) for p in sorted((chart_dir / "crds").glob(pattern))]
    from_yaml.sort(key=lambda d: d["metadata"]["name"])
    loaded = load_crds(chart_dir, pattern)
    assert len(loaded) == len(from_yaml) >= 3
    # the same documents, keys in the same order
    assert json.dumps(list(loaded)) == json.dumps(from_yaml)


def test_a_crd_file_missing_from_crds_json_is_an_error(tmp_path: Path) -> None:
    chart_dir, pattern = provider.vendored_charts()[0]
    shutil.copytree(chart_dir / "crds", tmp_path / "crds")
    shutil.copy(chart_dir / PARSED_CRDS, tmp_path / PARSED_CRDS)
    (tmp_path / "crds" / f"extra{pattern.removeprefix('*')}").write_text("kind: CustomResourceDefinition\n")
    with pytest.raises(RuntimeError, match=re.escape("python -m flow_platform.provider write")):
        load_crds(tmp_path, pattern)


def test_the_reference_shows_every_component_input_and_output() -> None:
    page = (ROOT / provider.DOCS_FILE).read_text()
    for token, resource in _schema()["resources"].items():
        assert f"Type token: `{token}`" in page
        for name in [*resource["inputProperties"], *resource["properties"]]:
            assert re.search(rf"^\| `{name}` \|", page, re.MULTILINE), f"{token}: {name}"


def test_the_plugin_manifest_runs_python_in_the_projects_virtualenv() -> None:
    plugin = yaml.safe_load((ROOT / "PulumiPlugin.yaml").read_text())
    assert plugin["runtime"]["name"] == "python"
    # the Python language host defaults a plugin's virtualenv to `venv`; ours is the project's
    assert plugin["runtime"]["options"] == {"toolchain": "pip", "virtualenv": ".venv"}
    assert (ROOT / "__main__.py").is_file()
    assert (ROOT / "requirements.txt").read_text().split() == ["-e", "."]


def test_the_engine_gets_the_same_schema_over_grpc() -> None:
    """Start the plugin as the Python language host does (``python <plugin dir> <engine address>``),
    read the port it prints, and call GetSchema and GetPluginInfo over gRPC."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT), "127.0.0.1:1", "--logtostderr"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 120)
        assert ready, "the plugin printed no port within 120 s"
        first_line = process.stdout.readline().decode().strip()
        assert first_line.isdigit(), (
            f"no port on stdout: {first_line!r} {process.stderr.read() if process.stderr else ''}"
        )
        with grpc.insecure_channel(f"127.0.0.1:{first_line}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            response = stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=30)
            info = stub.GetPluginInfo(empty_pb2.Empty(), timeout=30)
        assert json.loads(response.schema) == _schema()
        assert info.version == _schema()["version"]
    finally:
        process.terminate()
        process.wait(timeout=30)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
