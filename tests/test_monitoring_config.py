"""The ``monitoring`` block: each key's bad values give an error naming the key and what is allowed;
a good block reaches NfrRules unchanged, over the namespaces of the systems that measure NFRs."""

import json
from typing import Any

import pytest
from conftest import ROOT
from flow_platform.monitoring import promql
from flow_platform_stacks.config import monitoring as monitoring_config
from flow_platform_stacks.config.stack import StackConfig
from flow_platform_stacks.errors import ConfigError
from flow_platform_stacks.loader import check_texts
from flow_platform_stacks.tooling.harness import read_stack_file, run_program
from flow_platform_stacks.tooling.render import kubernetes_objects


def _config(block: Any, without: tuple[str, ...] = ()) -> StackConfig:
    texts, secrets = read_stack_file(ROOT / "Pulumi.dev.yaml", ROOT / "Pulumi.yaml")
    texts["flow-platform:monitoring"] = json.dumps(block)
    for system in without:
        texts.pop(f"flow-platform:{system}", None)
    return check_texts("dev", texts, secrets)


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """hyperflow and flink stand in for the systems that measure NFRs (openflow, eventflow)."""
    monkeypatch.setattr(monitoring_config, "nfr_systems", lambda: ["hyperflow", "flink"])


def test_defaults_are_the_documented_choices(stand_in: None) -> None:
    block = _config({}).monitoring
    assert block is not None and block.enabled
    assert block.ulimit_threshold == promql.DEFAULT_ULIMIT_THRESHOLD == 65536
    assert block.targets.max_restarts == 0 and block.targets.min_ulimit_percent == 100
    assert block.rule_labels == {"release": "kube-prometheus-stack"}
    assert [r.as_args() for r in block.readers] == [{"kind": "Group", "name": "flow-platform-nfr-readers"}]


def test_the_measured_namespaces_are_those_of_enabled_systems_that_declare_nfrs(stand_in: None) -> None:
    cfg = _config({"prometheusUrl": "http://localhost:9090/"})
    assert monitoring_config.nfr_namespaces(cfg) == ["hyperflow-dev", "flink-dev"]
    assert cfg.monitoring is not None and cfg.monitoring.prometheus_url == "http://localhost:9090"


def test_without_an_enabled_system_that_measures_nfrs_nothing_is_deployed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Disabling openflow stays one switch: an enabled monitoring block then has nothing to measure."""
    import pulumi
    from flow_platform_stacks import monitoring

    monkeypatch.setattr(monitoring_config, "nfr_systems", list)  # none
    cfg = _config({})
    assert monitoring_config.nfr_namespaces(cfg) == []
    registrations = run_program(
        "dev", {}, [], program=lambda: monitoring.deploy(cfg, pulumi.ResourceOptions())
    )
    assert registrations == []


@pytest.mark.parametrize(
    ("block", "key", "allowed"),
    [
        ({"enabled": "yes"}, "monitoring.enabled", "valid boolean"),
        ({"ruleNamespace": "Monitoring"}, "monitoring.ruleNamespace", "is not a DNS label"),
        ({"ruleLabels": {"release": "kube prometheus"}}, "monitoring.ruleLabels", "is not a label value"),
        ({"ruleLabels": {}}, "monitoring.ruleLabels", "non-empty map"),
        ({"ulimitThreshold": 0}, "monitoring.ulimitThreshold", "greater than or equal to 1"),
        ({"ulimitThreshold": 2**31}, "monitoring.ulimitThreshold", "less than or equal to 1073741824"),
        ({"ulimitThreshold": "65536"}, "monitoring.ulimitThreshold", "valid integer"),
        ({"targets": {"maxRestarts": -1}}, "monitoring.targets.maxRestarts", "greater than or equal to 0"),
        (
            {"targets": {"minUlimitPercent": 101}},
            "monitoring.targets.minUlimitPercent",
            "less than or equal to 100",
        ),
        ({"targets": {"maxRestart": 1}}, "monitoring.targets.maxRestart", "did you mean 'maxRestarts'?"),
        ({"prometheusUrl": "localhost:9090"}, "monitoring.prometheusUrl", "is not a Prometheus URL"),
        ({"prometheusUrl": "http://prom:99999"}, "monitoring.prometheusUrl", "invalid port"),
        ({"readers": []}, "monitoring.readers", "at least 1 item"),
        (
            {"readers": [{"kind": "Team", "name": "x"}]},
            "monitoring.readers[0].kind",
            "'Group', 'User' or 'ServiceAccount'",
        ),
        (
            {"readers": [{"kind": "ServiceAccount", "name": "ci"}]},
            "monitoring.readers[0].namespace",
            "required for a ServiceAccount",
        ),
        (
            {"readers": [{"kind": "Group", "name": "x", "namespace": "ci"}]},
            "monitoring.readers[0].namespace",
            "only a ServiceAccount",
        ),
        ({"readers": [{"kind": "Group", "name": ""}]}, "monitoring.readers[0].name", "is empty"),
        (
            {"readers": [{"kind": "Group", "name": "system:authenticated"}]},
            "monitoring.readers[0].name",
            "is everyone (or every account)",
        ),
        ({"alerts": True}, "monitoring.alerts", "unknown key"),
    ],
)
def test_each_bad_key_is_named_with_what_is_allowed(
    stand_in: None, block: dict[str, Any], key: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        _config(block)
    message = str(raised.value)
    assert message.startswith("invalid configuration for stack 'dev'")
    assert f"flow-platform:{key}" in message and allowed in message, message


def test_the_stack_deploys_the_rules_over_the_measured_namespaces(stand_in: None) -> None:
    from flow_platform_stacks import monitoring

    cfg = _config(
        {
            "ruleLabels": {"release": "prom"},
            "ulimitThreshold": 131072,
            "targets": {"maxRestarts": 2, "minUlimitPercent": 90},
            "readers": [{"kind": "User", "name": "alice"}],
        }
    )

    def program() -> None:
        import pulumi

        monitoring.deploy(cfg, pulumi.ResourceOptions())

    objects = kubernetes_objects(run_program("dev", {}, [], program=program))
    [rule] = [o for o in objects if o["kind"] == "PrometheusRule"]
    assert (
        rule["metadata"]["namespace"] == "hyperflow-dev" and rule["metadata"]["labels"]["release"] == "prom"
    )
    assert rule["spec"]["groups"] == promql.rule_groups(
        ["hyperflow-dev", "flink-dev"], ulimit_threshold=131072, max_restarts=2, min_ulimit_percent=90
    )
    bindings = [o for o in objects if o["kind"] == "RoleBinding"]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["flink-dev", "hyperflow-dev"]
    assert bindings[0]["subjects"] == [
        {"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}
    ]


def test_the_program_registers_the_rules_when_the_block_says_so(stand_in: None) -> None:
    texts, secrets = read_stack_file(ROOT / "Pulumi.dev.yaml", ROOT / "Pulumi.yaml")
    texts["flow-platform:monitoring"] = json.dumps({"ruleNamespace": "flink-dev"})
    registrations = run_program("dev", texts, secrets)
    [component] = [r for r in registrations if r.type == "flow-platform:index:NfrRules"]
    rules = [o for o in kubernetes_objects(registrations) if o["kind"] == "PrometheusRule"]
    assert [r["metadata"]["namespace"] for r in rules] == ["flink-dev"]
    assert component.options.get("depends_on") or component.options.get("dependsOn"), component.options
    texts["flow-platform:monitoring"] = json.dumps({"enabled": False})
    assert not [r for r in run_program("dev", texts, secrets) if r.type == "flow-platform:index:NfrRules"]
