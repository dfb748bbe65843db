"""Rendered objects pass the official Kubernetes 1.32 schemas strictly; Pulumi.yaml passes its own."""

import functools
import json
import re
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from conftest import DATA, ROOT, Stack, data_yaml
from flow_platform.flink.configuration import OPERATOR_VERSION

K8S_VERSION = "1.32.0"


def test_every_rendered_object_is_valid_kubernetes_1_32_in_strict_mode(env_stack: Stack) -> None:
    # custom resources: their CRDs (Flink below; PrometheusRule in test_nfr_rules.py; Spark here)
    custom = ("flink.apache.org/", "monitoring.coreos.com/", SPARK_GROUP)
    objects = [o for o in env_stack.objects() if not o["apiVersion"].startswith(custom)]
    assert objects, "the stack rendered no Kubernetes objects"
    for obj in env_stack.objects():
        if obj["apiVersion"].startswith(SPARK_GROUP):
            errors = [e.message for e in spark_crd_validator(obj["kind"]).iter_errors(obj)]
            assert not errors, f"{obj['kind']}/{obj['metadata'].get('name')}: {errors}"
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{obj['kind']}/{obj['metadata'].get('name')}: {error}")


SPARK_GROUP = "sparkoperator.k8s.io/"


def _served_schema(crd: dict[str, Any], version: str) -> dict[str, Any]:
    """A CRD version's openAPIV3Schema as the API server applies it (strict, root fields implied)."""
    [served] = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema: dict[str, Any] = _strict(served["schema"]["openAPIV3Schema"])
    # apiVersion, kind and metadata are implied at the root of every custom resource
    schema["properties"].update(
        apiVersion={"type": "string"}, kind={"type": "string"}, metadata={"type": "object"}
    )
    return schema


@functools.cache
def spark_crd_validator(kind: str) -> Any:
    """A spark-operator 2.5.2 custom resource's v1beta2 schema, from the CRDs shipped with the
    component (components/flow_platform/openflow/chart, pinned by sha256 in test_spark_operator)."""
    from flow_platform.openflow import spark_operator_chart

    [crd] = [d for d in spark_operator_chart.crd_documents() if d["spec"]["names"]["kind"] == kind]
    return jsonschema.Draft7Validator(_served_schema(crd, "v1beta2"))


@functools.cache
def _crd_schema(kind: str) -> dict[str, Any]:
    plural = {
        "FlinkDeployment": "flinkdeployments",
        "FlinkSessionJob": "flinksessionjobs",
        "FlinkStateSnapshot": "flinkstatesnapshots",
    }[kind]
    path = (
        DATA / "crds" / f"flink-kubernetes-operator-{OPERATOR_VERSION}" / f"{plural}.flink.apache.org-v1.yml"
    )
    return _served_schema(data_yaml(path), "v1beta1")


@functools.cache
def flink_crd_validator(kind: str) -> Any:
    """A Flink operator custom resource's v1beta1 schema, from the release's CRDs (tests/data)."""
    return jsonschema.Draft7Validator(_crd_schema(kind))


def _strict(schema: Any) -> Any:
    """The API server's strict decoding: objects with declared properties reject unknown fields."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items() if not k.startswith("x-kubernetes")}
        if schema.get("type") == "object" and "properties" in schema and "additionalProperties" not in schema:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


FLINK_KINDS = ("FlinkDeployment", "FlinkSessionJob", "FlinkStateSnapshot")


def test_every_flink_custom_resource_validates_against_its_crd(env_stack: Stack) -> None:
    resources = [o for o in env_stack.objects() if o["kind"] in FLINK_KINDS]
    assert any(o["kind"] == "FlinkDeployment" for o in resources)
    for obj in resources:
        try:
            jsonschema.validate(obj, _crd_schema(obj["kind"]), cls=jsonschema.Draft7Validator)
        except jsonschema.ValidationError as error:
            pytest.fail(
                f"{obj['kind']}/{obj['metadata']['name']}: {error.message} at {list(error.absolute_path)}"
            )


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("spec", "flinkVersion"), "v1_21"),
        (("spec", "job", "upgradeMode"), "restart"),
        (("spec", "jobManagr"), {}),
    ],
)
def test_crd_validation_rejects_bad_enums_and_unknown_fields(
    stack: Any, path: tuple[str, ...], value: Any
) -> None:
    import copy

    deployment = copy.deepcopy(stack("prd").one("FlinkDeployment", "events", "flink-prd"))
    node = deployment
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(deployment, _crd_schema("FlinkDeployment"), cls=jsonschema.Draft7Validator)


def test_strict_validation_really_rejects_unknown_fields() -> None:
    # guards the test above: a typo'd field must fail, or the schema check proves nothing
    bad = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "x", "namespace": "y"},
        "spec": {"limits": [{"type": "Container", "defaultRequests": {"cpu": "1"}}]},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S_VERSION, strict=True)


def _project_schema() -> dict[str, Any]:
    return json.loads((DATA / "schemas" / "project.json").read_text())


def test_pulumi_yaml_matches_the_official_project_schema() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    jsonschema.validate(project, _project_schema(), cls=jsonschema.Draft202012Validator)
    assert project["name"] == "flow-platform"
    assert project["main"] == "stacks/"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}
    assert (ROOT / "stacks" / "__main__.py").exists()


def test_pulumi_yaml_config_follows_the_rules_the_cli_checks_by_hand() -> None:
    """The schema leaves these to the CLI: array items, defaults matching types."""
    config = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    python_types = {"string": str, "integer": int, "boolean": bool, "object": dict, "array": list}
    for key, decl in config.items():
        assert ":" not in key, f"{key}: keys of other namespaces may carry only a value"
        assert decl.get("description"), f"{key} has no description"
        if decl["type"] == "array":
            assert "items" in decl
        if "default" in decl:
            assert isinstance(decl["default"], python_types[decl["type"]])


def test_schema_check_rejects_a_broken_project_file() -> None:
    broken = {"name": "flow-platform", "runtime": {"name": "python", "option": {}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, _project_schema(), cls=jsonschema.Draft202012Validator)


def test_every_top_level_config_key_is_declared_in_pulumi_yaml() -> None:
    from flow_platform_stacks.config.stack import StackConfig

    declared = set(yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"])
    modelled = {info.alias for info in StackConfig.model_fields.values()}
    assert declared == modelled
    for env in ("dev", "tst", "uat", "prd"):
        keys = yaml.safe_load((ROOT / f"Pulumi.{env}.yaml").read_text())["config"]
        for key in keys:
            if key == "pulumi:disable-default-providers":  # the engine's own setting (see test_aws_stack)
                continue
            assert re.fullmatch(r"flow-platform:[a-z][A-Za-z]*", key), key
            assert key.split(":")[1] in declared
