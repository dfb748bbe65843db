"""The shared validators (flow_platform.validation): one rule for config models and components."""

import importlib
import json
import pkgutil
import re
from typing import Any

import flow_platform
import pytest
from conftest import ROOT
from flow_platform import provider
from flow_platform import validation as v
from flow_platform.flink import FlinkCluster
from flow_platform.reference import split_default
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.util import camel_case


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (v.cpu, ["250m", "2", 0.5, "1e3"], ["0", "-1", "1e300", "2x", True, None, "Infinity"]),
        (v.memory, ["512Mi", "16Gi", "1G"], ["512m", "4", "-1Gi", "1e300", "16 Gi", ""]),
        (v.quantity, ["0", "20", "10Gi"], ["-2", "1e300", "x"]),
        (v.dns_label, ["flow-dev", "a", "a" * 63], ["Flow", "flow_dev", "-flow", "a" * 64, "", 7]),
        (v.owned_namespace, ["partek-dev"], ["kube-system", "default", "Partek"]),
        (v.object_name, ["flow-home", "gp3", "a.b-c"], ["Flow", "a_b", "", "a" * 254]),
        (v.hostname, ["flow.example.com"], ["flow", "Flow.example.com", "", "flow..example.com"]),
        (v.label_value, ["dev", "v1.2_x"], ["", "-dev", "a" * 64, "a b"]),
        (
            v.image_reference,
            ["redis:7.2.5", "registry.partek.com/rtw:23.0809.22", "quay.io/a/b@sha256:" + "0" * 64],
            ["redis", "redis:latest", "registry.partek.com/rtw", "Redis:7", "redis:7 ", ""],
        ),
        (v.image_tag, ["1.15.0", "v2"], ["latest", "", "a:b"]),
        (v.cidr, ["10.0.0.0/16", "10.0.0.1/32", "fd00::/8"], ["10.0.0.1/16", "0.0.0.0/0", "10.0.0/16", ""]),
        (v.positive_int, [1, 3, 2.0], [0, -1, True, 1.5, "2"]),
        (v.non_negative_int, [0, 4], [-1, False, "0"]),
        (v.port, [1, 443, 65535], [0, 65536, "443"]),
        (v.cron_schedule, ["17 3 * * *"], ["daily", "* * * *"]),
        (v.psa_version, ["latest", "v1.32"], ["1.32", "v2.0", ""]),
        (v.aws_account_id, ["111111111111"], ["1111", "11111111111a"]),
        (v.aws_region, ["us-west-2", "us-gov-west-1"], ["us-west", "US-WEST-2"]),
        (v.labels, [{"app.kubernetes.io/name": "x"}], [{}, {"Bad Key": "x"}, {"k": "-x"}]),
    ],
)
def test_each_check_accepts_what_the_api_accepts_and_rejects_the_rest(
    check: Any, good: list[Any], bad: list[Any]
) -> None:
    for value in good:
        check(value)
    for value in bad:
        with pytest.raises(ValueError):
            check(value)


def test_messages_say_what_is_allowed() -> None:
    with pytest.raises(ValueError, match="one of 'single-node', 'distributed'"):
        v.one_of(flow_platform.partek.HeadnodeMode)("distrib")
    with pytest.raises(ValueError, match="pin the tag you tested"):
        v.image_reference("redis:latest")
    with pytest.raises(ValueError, match=r"\[1\]: '10.0.0.1/16' is not a CIDR block"):
        v.list_of(v.cidr)(["10.0.0.0/16", "10.0.0.1/16"])


def test_the_config_models_use_the_same_checks() -> None:
    from flow_platform_stacks.config import base

    assert base.DNS_LABEL is v.DNS_LABEL and base.HOSTNAME is v.HOSTNAME and base.IMAGE_TAG is v.IMAGE_TAG
    with pytest.raises(ValueError, match="CPU must be greater than 0"):
        base.CpuMemory.model_validate({"cpu": "-1", "memory": "1Gi"})
    with pytest.raises(ValueError, match="out of range"):
        base.CpuMemory.model_validate({"cpu": "1", "memory": "1e300"})


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return ", ".join(f"{k}: {val}" for k, val in value.items())
    if isinstance(value, list):
        return " ".join(str(x) for x in value)
    return str(getattr(value, "value", value))


def test_documented_defaults_are_the_named_constants_the_code_uses() -> None:
    """Each DEFAULT_<KEY> constant of a component module is what that key's docs say."""
    schema = json.loads((ROOT / provider.SCHEMA_FILE).read_text())
    descriptions: dict[str, set[str]] = {}
    for definition in [*schema["resources"].values(), *schema["types"].values()]:
        for properties in (definition.get("inputProperties", {}), definition.get("properties", {})):
            for name, prop in properties.items():
                descriptions.setdefault(name, set()).add(prop.get("description", ""))
    checked = 0
    for info in pkgutil.walk_packages(flow_platform.__path__, "flow_platform."):
        module = importlib.import_module(info.name)
        if not hasattr(module, "ARGS"):
            continue
        for constant, value in vars(module).items():
            if not constant.startswith("DEFAULT_"):
                continue
            key = camel_case(constant.removeprefix("DEFAULT_").lower())
            assert key in descriptions, f"{info.name}.{constant}: no input named {key}"
            defaults = {split_default(d)[1] for d in descriptions[key]}
            documented = any(d.startswith(f"``{_render(value)}``") for d in defaults)
            assert documented, f"{info.name}.{constant}={value!r} vs {defaults}"
            checked += 1
    assert checked >= 40


def test_inputs_sent_by_another_language_reach_the_component_as_python_values() -> None:
    """What the engine's Construct hands over (camelCase names, integers as floats) maps back to
    the component's args, and its checks turn the floats into ints."""
    component_provider = ComponentProvider(provider.COMPONENTS, "flow-platform", None, "0.0.0")
    inputs = {
        "namespace": "flink-dev",
        "env": "dev",
        "name": "analytics",
        "image": "flink:1.20.1",
        "flinkVersion": "v1_20",
        "claim": "flink-data",
        "jobManager": {"replicas": 1.0, "cpu": 1.0, "memory": "2Gi"},
        "taskManager": {"replicas": 2.0, "cpu": 2.0, "memory": "4Gi"},
        "operatorNamespace": "flink-operator",
        "apiServerCidrs": ["10.0.0.1/32"],
        "sessionJobs": [
            {"name": "wordcount", "job": {"jarUri": "https://x.example.com/a.jar", "parallelism": 2.0}}
        ],
        "apiServerPort": 6443.0,
    }
    mapped = component_provider.map_inputs(inputs, component_provider._component_defs["FlinkCluster"])
    args = importlib.import_module(FlinkCluster.__module__).ARGS.check("x", mapped)
    assert args["job_manager"] == {"replicas": 1, "cpu": 1.0, "memory": "2Gi"}
    assert type(args["task_manager"]["replicas"]) is int
    assert args["session_jobs"] == [
        {"name": "wordcount", "job": {"jar_uri": "https://x.example.com/a.jar", "parallelism": 2}}
    ]
    assert args["api_server_port"] == 6443 and type(args["api_server_port"]) is int
    assert re.fullmatch(r"[a-z_]+", "".join(args))


def test_config_choices_are_the_components_enums() -> None:
    """Where a config model spells a choice as a Literal, it is exactly the component's enum."""
    from typing import get_args

    from flow_platform.aws.efs_shared_volume import ThroughputMode
    from flow_platform.k8s import PSA_LEVELS, PodSecurityLevel
    from flow_platform.partek import HeadnodeMode
    from flow_platform_stacks.config import aws
    from flow_platform_stacks.systems.partek import config as partek

    assert get_args(aws.ThroughputMode) == tuple(m.value for m in ThroughputMode)
    assert get_args(partek.HeadnodeConfig.model_fields["mode"].annotation) == tuple(
        m.value for m in HeadnodeMode
    )
    assert tuple(m.value for m in PodSecurityLevel) == PSA_LEVELS
