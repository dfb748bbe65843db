"""The NFR rules (flow_platform.monitoring): evaluated by Prometheus' own promtool on synthetic series,
and the PrometheusRule checked against prometheus-operator v0.93.0's CRD.

promtool (Debian package ``prometheus``; .ci/run installs it) evaluates the rules exactly as
Prometheus does: ``promtool test rules`` feeds it the series and compares what the rules record and
which alerts fire. Without promtool these tests skip, saying so.
"""

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import prometheus_rule_crd
import pytest
import yaml
from conftest import Stack, raw_stack_yaml
from flow_platform.monitoring import NfrRules, promql
from flow_platform.monitoring.nfr_rules import READER_ROLE, RULE_NAME, SubjectKind
from flow_platform.validation import ArgsError
from flow_platform_stacks.tooling.harness import run_program
from flow_platform_stacks.tooling.render import kubernetes_objects

PROMTOOL = shutil.which("promtool")
REQUIRE_PROMTOOL = "FLOW_PLATFORM_REQUIRE_PROMTOOL"
"""Set to 1 (CI does) and a missing promtool fails these tests instead of skipping them."""
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None and os.environ.get(REQUIRE_PROMTOOL) != "1",
    reason="promtool not installed (Debian/Ubuntu: apt-get install prometheus); .ci/run installs it",
)
NAMESPACES = ["openflow-dev", "eventflow-dev"]
OPENFLOW, EVENTFLOW, OTHER = "openflow-dev", "eventflow-dev", "other-dev"


# --- synthetic series ------------------------------------------------------------------------------


def _labels(**labels: str) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _series(metric: str, values: str, **labels: str) -> dict[str, str]:
    return {"series": metric + _labels(**labels), "values": values}


def _owner(namespace: str, pod: str, kind: str, name: str, controller: str = "true") -> dict[str, str]:
    return _series(
        "kube_pod_owner",
        "1x30",
        namespace=namespace,
        pod=pod,
        owner_kind=kind,
        owner_name=name,
        owner_is_controller=controller,
        uid=f"uid-{pod}",
        job="kube-state-metrics",
    )


def _nofile(namespace: str, pod: str, container: str, soft: int) -> dict[str, str]:
    return _series(
        "container_ulimits_soft",
        f"{soft}x30",
        namespace=namespace,
        pod=pod,
        container=container,
        ulimit="max_open_files",
        job="kubelet",
        metrics_path="/metrics/cadvisor",
        id=f"/kubepods/{pod}/{container}",
    )


def _restarts(namespace: str, pod: str, container: str, values: str, init: bool = False) -> dict[str, str]:
    metric = (
        "kube_pod_init_container_status_restarts_total"
        if init
        else "kube_pod_container_status_restarts_total"
    )
    return _series(metric, values, namespace=namespace, pod=pod, container=container, uid=f"uid-{pod}")


def _phase(namespace: str, pod: str, phase: str) -> list[dict[str, str]]:
    return [
        _series(
            "kube_pod_status_phase", "1x30" if p == phase else "0x30", namespace=namespace, pod=pod, phase=p
        )
        for p in ("Pending", "Running", "Succeeded", "Failed", "Unknown")
    ]


# openflow-dev: a Spark application (the driver a bare pod, its executors owned by the driver pod, so
# driver + executors are one workload), one executor at the node default 1024; a history server whose
# main container is unlimited (-1); a tools ReplicaSet with one non-compliant container of two; a pod
# owned only by a non-controller owner. eventflow-dev: a StatefulSet, all compliant.
ULIMIT_SERIES = [
    _owner(OPENFLOW, "app1-driver", "<none>", "<none>", "<none>"),
    _nofile(OPENFLOW, "app1-driver", "spark-kubernetes-driver", 65536),
    _owner(OPENFLOW, "app1-exec-1", "Pod", "app1-driver"),
    _nofile(OPENFLOW, "app1-exec-1", "spark-kubernetes-executor", 65536),
    _owner(OPENFLOW, "app1-exec-2", "Pod", "app1-driver"),
    _nofile(OPENFLOW, "app1-exec-2", "spark-kubernetes-executor", 1024),
    _owner(OPENFLOW, "history-abc-1", "ReplicaSet", "history-abc"),
    _nofile(OPENFLOW, "history-abc-1", "history", -1),
    _nofile(OPENFLOW, "history-abc-1", "proxy", 65536),
    _owner(OPENFLOW, "tools-xyz-1", "ReplicaSet", "tools-xyz"),
    _nofile(OPENFLOW, "tools-xyz-1", "main", 1048576),
    _nofile(OPENFLOW, "tools-xyz-1", "helper", 1024),
    _owner(OPENFLOW, "odd", "ConfigMap", "odd-owner", "false"),
    _nofile(OPENFLOW, "odd", "main", 65536),
    # the pause container and the pod cgroup are not workloads' containers
    _nofile(OPENFLOW, "odd", "POD", 1024),
    _nofile(OPENFLOW, "odd", "", 1024),
    _owner(EVENTFLOW, "ef-0", "StatefulSet", "ef"),
    _nofile(EVENTFLOW, "ef-0", "node", 65536),
    _owner(EVENTFLOW, "ef-1", "StatefulSet", "ef"),
    _nofile(EVENTFLOW, "ef-1", "node", 65536),
    # not a measured namespace
    _owner(OTHER, "x-1", "ReplicaSet", "x"),
    _nofile(OTHER, "x-1", "main", 1024),
]
RESTART_SERIES = [
    _restarts(OPENFLOW, "app1-driver", "spark-kubernetes-driver", "0x30"),
    *_phase(OPENFLOW, "app1-driver", "Running"),
    # Spark executors never restart (restartPolicy: Never): the failure is a Failed pod
    _restarts(OPENFLOW, "app1-exec-3", "spark-kubernetes-executor", "0x30"),
    *_phase(OPENFLOW, "app1-exec-3", "Failed"),
    _restarts(OPENFLOW, "tools-xyz-1", "setup", "2x30", init=True),
    _restarts(OPENFLOW, "tools-xyz-1", "main", "0x30"),
    *_phase(OPENFLOW, "tools-xyz-1", "Running"),
    _restarts(EVENTFLOW, "ef-0", "node", "0 0 1 1 3x26"),
    *_phase(EVENTFLOW, "ef-0", "Running"),
    _restarts(OTHER, "x-1", "main", "10x30"),
    *_phase(OTHER, "x-1", "Failed"),
]


# --- running promtool ------------------------------------------------------------------------------


def _rule_file(tmp_path: Path, **kwargs: Any) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": promql.rule_groups(NAMESPACES, **kwargs)}, sort_keys=False))
    return path


def _promtool(tmp_path: Path, tests: list[dict[str, Any]], **kwargs: Any) -> None:
    rules = _rule_file(tmp_path, **kwargs)
    test_file = tmp_path / "tests.yaml"
    test_file.write_text(
        yaml.safe_dump(
            {"rule_files": [rules.name], "evaluation_interval": "1m", "tests": tests}, sort_keys=False
        )
    )
    assert PROMTOOL is not None, f"{REQUIRE_PROMTOOL}=1 but promtool is not on PATH"
    done = subprocess.run(
        [PROMTOOL, "test", "rules", test_file.name], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"promtool test rules failed:\n{done.stdout}\n{done.stderr}"


def _samples(record: str, values: dict[str, float]) -> list[dict[str, Any]]:
    return [{"labels": f'{record}{{namespace="{ns}"}}', "value": value} for ns, value in values.items()]


def _annotations(alert: str, labels: dict[str, str], value: str, **kwargs: Any) -> dict[str, str]:
    """The alert's annotations as Prometheus renders their templates for these labels and value."""
    [rule] = [r for r in promql.rule_groups(NAMESPACES, **kwargs)[0]["rules"] if r.get("alert") == alert]
    rendered = {}
    for key, text in rule["annotations"].items():
        text = text.replace("{{ $value | humanize }}", value).replace("{{ $value }}", value)
        for name, label in labels.items():
            text = text.replace(f"{{{{ $labels.{name} }}}}", label)
        rendered[key] = text
    return rendered


@needs_promtool
def test_promtool_accepts_the_rule_file(tmp_path: Path) -> None:
    assert PROMTOOL is not None, f"{REQUIRE_PROMTOOL}=1 but promtool is not on PATH"
    rules = _rule_file(tmp_path)
    done = subprocess.run(
        [PROMTOOL, "check", "rules", str(rules)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 10 rules found" in done.stdout


@needs_promtool
def test_restarts_count_container_and_init_restarts_plus_failed_pods_per_namespace(tmp_path: Path) -> None:
    _promtool(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": RESTART_SERIES,
                "promql_expr_test": [
                    # the init container's 2 restarts; other-dev is not measured
                    {
                        "expr": promql.RESTARTS,
                        "eval_time": "10m",
                        "exp_samples": _samples(promql.RESTARTS, {OPENFLOW: 2, EVENTFLOW: 3}),
                    },
                    {
                        "expr": promql.FAILED_PODS,
                        "eval_time": "10m",
                        "exp_samples": _samples(promql.FAILED_PODS, {OPENFLOW: 1, EVENTFLOW: 0}),
                    },
                    # the NFR: restarts + failed pods (the failed executor counts although its counter is 0)
                    {
                        "expr": promql.RESTARTS_NFR,
                        "eval_time": "10m",
                        "exp_samples": _samples(promql.RESTARTS_NFR, {OPENFLOW: 3, EVENTFLOW: 3}),
                    },
                    {
                        "expr": promql.RESTARTS_NFR,
                        "eval_time": "1m",
                        "exp_samples": _samples(promql.RESTARTS_NFR, {OPENFLOW: 3, EVENTFLOW: 0}),
                    },
                ],
                "alert_rule_test": [
                    # eventflow-dev's first restart at 2m: not yet for 5m at 6m, firing at 8m
                    {
                        "eval_time": "6m",
                        "alertname": promql.ALERT_RESTARTS,
                        "exp_alerts": [_restart_alert(OPENFLOW, "3")],
                    },
                    {
                        "eval_time": "8m",
                        "alertname": promql.ALERT_RESTARTS,
                        "exp_alerts": [_restart_alert(OPENFLOW, "3"), _restart_alert(EVENTFLOW, "3")],
                    },
                ],
            }
        ],
    )


def _restart_alert(namespace: str, value: str) -> dict[str, Any]:
    labels = {"namespace": namespace, "severity": "warning", "nfr": "pod-restarts"}
    return {"exp_labels": labels, "exp_annotations": _annotations(promql.ALERT_RESTARTS, labels, value)}


@needs_promtool
def test_restarts_alert_only_above_the_configured_maximum(tmp_path: Path) -> None:
    _promtool(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": RESTART_SERIES,
                "alert_rule_test": [
                    {
                        "eval_time": "20m",
                        "alertname": promql.ALERT_RESTARTS,
                        "exp_alerts": [
                            {
                                "exp_labels": {"namespace": ns, "severity": "warning", "nfr": "pod-restarts"},
                                "exp_annotations": _annotations(
                                    promql.ALERT_RESTARTS, {"namespace": ns}, "3", max_restarts=2
                                ),
                            }
                            for ns in (OPENFLOW, EVENTFLOW)
                        ],
                    },
                ],
            }
        ],
        max_restarts=2,
    )
    _promtool(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": RESTART_SERIES,
                "alert_rule_test": [
                    {"eval_time": "20m", "alertname": promql.ALERT_RESTARTS, "exp_alerts": []}
                ],
            }
        ],
        max_restarts=3,
    )


def _workload(namespace: str, kind: str, name: str, value: int) -> dict[str, Any]:
    return {
        "labels": f"{promql.WORKLOAD_NOFILE}{_labels(namespace=namespace, owner_kind=kind, owner_name=name)}",
        "value": value,
    }


@needs_promtool
def test_a_workload_meets_the_ulimit_only_when_all_its_containers_do(tmp_path: Path) -> None:
    query = promql.ulimit_nfr_query(NAMESPACES, promql.DEFAULT_ULIMIT_THRESHOLD)
    _promtool(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": ULIMIT_SERIES,
                "promql_expr_test": [
                    {
                        "expr": promql.WORKLOAD_NOFILE,
                        "eval_time": "5m",
                        "exp_samples": [
                            # one executor at 1024 fails the whole Spark application (driver + executors)
                            _workload(OPENFLOW, "Pod", "app1-driver", 0),
                            # unlimited (-1) and 65536 both comply
                            _workload(OPENFLOW, "ReplicaSet", "history-abc", 1),
                            # 1048576 + 1024: one non-compliant container is enough
                            _workload(OPENFLOW, "ReplicaSet", "tools-xyz", 0),
                            # the pause container's 1024 is ignored
                            _workload(OPENFLOW, "ConfigMap", "odd-owner", 1),
                            _workload(EVENTFLOW, "StatefulSet", "ef", 1),
                        ],
                    },
                    {
                        "expr": promql.ULIMIT_NFR,
                        "eval_time": "5m",
                        "exp_samples": _samples(promql.ULIMIT_NFR, {OPENFLOW: 50, EVENTFLOW: 100}),
                    },
                    # what `flow-platform nfr` asks (no recording rules needed) gives the same figures
                    {
                        "expr": query,
                        "eval_time": "5m",
                        "exp_samples": [
                            {"labels": f'{{namespace="{ns}"}}', "value": v}
                            for ns, v in ((OPENFLOW, 50), (EVENTFLOW, 100))
                        ],
                    },
                ],
                "alert_rule_test": [
                    {"eval_time": "10m", "alertname": promql.ALERT_ULIMIT, "exp_alerts": []},
                    {
                        "eval_time": "16m",
                        "alertname": promql.ALERT_ULIMIT,
                        "exp_alerts": [
                            {
                                "exp_labels": {"namespace": OPENFLOW, "severity": "warning", "nfr": "ulimit"},
                                "exp_annotations": _annotations(
                                    promql.ALERT_ULIMIT, {"namespace": OPENFLOW}, "50"
                                ),
                            }
                        ],
                    },
                    {
                        "eval_time": "16m",
                        "alertname": promql.ALERT_WORKLOAD,
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "namespace": OPENFLOW,
                                    "owner_kind": kind,
                                    "owner_name": name,
                                    "severity": "info",
                                    "nfr": "ulimit",
                                },
                                "exp_annotations": _annotations(
                                    promql.ALERT_WORKLOAD,
                                    {"namespace": OPENFLOW, "owner_kind": kind, "owner_name": name},
                                    "0",
                                ),
                            }
                            for kind, name in (("Pod", "app1-driver"), ("ReplicaSet", "tools-xyz"))
                        ],
                    },
                    {"eval_time": "40m", "alertname": promql.ALERT_METRICS_MISSING, "exp_alerts": []},
                ],
            }
        ],
    )


@needs_promtool
def test_the_threshold_is_an_argument(tmp_path: Path) -> None:
    _promtool(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": ULIMIT_SERIES,
                "promql_expr_test": [
                    {
                        "expr": promql.ULIMIT_NFR,
                        "eval_time": "5m",
                        "exp_samples": _samples(promql.ULIMIT_NFR, {OPENFLOW: 100, EVENTFLOW: 100}),
                    },
                ],
            }
        ],
        ulimit_threshold=1024,
    )


@needs_promtool
def test_a_namespace_where_nothing_complies_reads_zero_not_absent(tmp_path: Path) -> None:
    series = [
        _owner(EVENTFLOW, "ef-0", "StatefulSet", "ef"),
        _nofile(EVENTFLOW, "ef-0", "node", 1024),
        _owner(OPENFLOW, "solo", "<none>", "<none>", "<none>"),
        _nofile(OPENFLOW, "solo", "main", 4096),
    ]
    _promtool(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [
                    {
                        "expr": promql.ULIMIT_NFR,
                        "eval_time": "5m",
                        "exp_samples": _samples(promql.ULIMIT_NFR, {OPENFLOW: 0, EVENTFLOW: 0}),
                    },
                    {
                        "expr": promql.WORKLOAD_NOFILE,
                        "eval_time": "5m",
                        "exp_samples": [
                            _workload(OPENFLOW, "Pod", "solo", 0),
                            _workload(EVENTFLOW, "StatefulSet", "ef", 0),
                        ],
                    },
                ],
            }
        ],
    )


@needs_promtool
def test_missing_input_metrics_raise_their_own_alert(tmp_path: Path) -> None:
    labels = {"severity": "warning", "nfr": "ulimit"}
    _promtool(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": RESTART_SERIES,  # kube-state-metrics' restarts only: no cAdvisor, no owners
                "alert_rule_test": [
                    {"eval_time": "20m", "alertname": promql.ALERT_METRICS_MISSING, "exp_alerts": []},
                    {
                        "eval_time": "31m",
                        "alertname": promql.ALERT_METRICS_MISSING,
                        "exp_alerts": [
                            {
                                "exp_labels": {**labels, "metric": metric, **extra},
                                "exp_annotations": _annotations(
                                    promql.ALERT_METRICS_MISSING, {"metric": metric}, ""
                                ),
                            }
                            for metric, extra in (
                                ("container_ulimits_soft", {"ulimit": "max_open_files"}),
                                ("kube_pod_owner", {}),
                            )
                        ],
                    },
                ],
            }
        ],
    )


# --- the component ---------------------------------------------------------------------------------


def _render(args: dict[str, Any]) -> list[dict[str, Any]]:
    def program() -> None:
        NfrRules("nfr", args)  # type: ignore[arg-type]

    return kubernetes_objects(run_program("lib", {}, [], program=program))


BASE = {"namespace": "monitoring", "env": "dev", "namespaces": NAMESPACES}


def test_the_prometheus_rule_is_valid_against_the_prometheus_operator_crd() -> None:
    [rule] = [o for o in _render(BASE) if o["kind"] == "PrometheusRule"]
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    jsonschema.validate(rule, prometheus_rule_crd.schema(), cls=jsonschema.Draft7Validator)
    # the guard: the strict schema rejects a misspelt field
    broken = copy.deepcopy(rule)
    broken["spec"]["groups"][0]["rules"][0]["recrod"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, prometheus_rule_crd.schema(), cls=jsonschema.Draft7Validator)


def test_the_rule_carries_the_rule_selector_labels_and_covers_exactly_the_namespaces() -> None:
    [rule] = [o for o in _render(BASE) if o["kind"] == "PrometheusRule"]
    assert rule["metadata"]["name"] == RULE_NAME and rule["metadata"]["namespace"] == "monitoring"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["spec"]["groups"] == promql.rule_groups(NAMESPACES)
    text = json.dumps(rule["spec"])
    assert 'namespace=~\\"eventflow-dev|openflow-dev\\"' in text
    [rule] = [
        o
        for o in _render({**BASE, "rule_labels": {"prometheus": "platform"}, "ulimit_threshold": 131072})
        if o["kind"] == "PrometheusRule"
    ]
    assert (
        rule["metadata"]["labels"]["prometheus"] == "platform" and "release" not in rule["metadata"]["labels"]
    )
    assert ">= bool 131072" in json.dumps(rule["spec"])


def test_each_namespace_gets_a_read_only_pods_role_bound_to_the_readers() -> None:
    objects = _render(
        {
            **BASE,
            "readers": [
                {"kind": SubjectKind.GROUP, "name": "sre"},
                {"kind": "ServiceAccount", "name": "ci", "namespace": "ci"},
            ],
        }
    )
    roles = {o["metadata"]["namespace"]: o for o in objects if o["kind"] == "Role"}
    bindings = {o["metadata"]["namespace"]: o for o in objects if o["kind"] == "RoleBinding"}
    assert sorted(roles) == sorted(bindings) == sorted(NAMESPACES)
    for namespace in NAMESPACES:
        assert roles[namespace]["metadata"]["name"] == READER_ROLE
        assert roles[namespace]["rules"] == [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}
        ]
        assert bindings[namespace]["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": READER_ROLE,
        }
        assert bindings[namespace]["subjects"] == [
            {"kind": "Group", "name": "sre", "apiGroup": "rbac.authorization.k8s.io"},
            {"kind": "ServiceAccount", "name": "ci", "namespace": "ci"},
        ]
    assert not [o for o in objects if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]


def test_the_default_reader_is_the_documented_group() -> None:
    [binding, _] = [o for o in _render(BASE) if o["kind"] == "RoleBinding"]
    assert binding["subjects"] == [
        {"kind": "Group", "name": "flow-platform-nfr-readers", "apiGroup": "rbac.authorization.k8s.io"}
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"namespaces": []}, "args['namespaces']: expected at least 1 item(s)"),
        ({"namespaces": ["a", "a"]}, "args['namespaces']: namespaces must be unique: a repeated"),
        ({"ulimit_threshold": 0}, "args['ulimit_threshold']: expected a whole number of at least 1"),
        ({"ulimit_threshold": 2**31}, "Linux caps nofile at fs.nr_open"),
        ({"min_ulimit_percent": 101}, "args['min_ulimit_percent']: expected a percentage from 0 to 100"),
        ({"max_restarts": -1}, "args['max_restarts']: expected a whole number of at least 0"),
        (
            {"rule_labels": {"release": "kube prometheus"}},
            "args['rule_labels']: 'kube prometheus' is not a label value",
        ),
        (
            {"readers": [{"kind": "ServiceAccount", "name": "ci"}]},
            "args['readers'][0]['namespace']: a ServiceAccount needs its namespace",
        ),
        (
            {"readers": [{"kind": "Group", "name": "system:serviceaccounts:team"}]},
            "args['readers'][0]['name']: Group 'system:serviceaccounts:team' is everyone",
        ),
        (
            {"readers": [{"kind": "Team", "name": "x"}]},
            "args['readers'][0]['kind']: 'Team' is not one of 'Group', 'User', 'ServiceAccount'",
        ),
    ],
)
def test_bad_args_name_the_key(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ArgsError) as raised:
        NfrRules("nfr", {**BASE, **extra})  # type: ignore[typeddict-item]
    assert message in str(raised.value)


# --- the committed stacks ------------------------------------------------------------------------


def test_each_env_with_a_monitoring_block_measures_its_nfr_systems(env_stack: Stack) -> None:
    from flow_platform_stacks.config.monitoring import nfr_systems

    raw = raw_stack_yaml(env_stack.name)["config"]
    block = raw.get("flow-platform:monitoring")
    rules = env_stack.objects("PrometheusRule")
    if block is None or block.get("enabled") is False:
        assert not rules
        pytest.skip(f"{env_stack.name} has no monitoring block")
    measured = sorted(
        f"{name}-{env_stack.name}"
        for name in nfr_systems()
        if isinstance(raw.get(f"flow-platform:{name}"), dict)
        and raw[f"flow-platform:{name}"].get("enabled", True)
        and "namespace" not in raw[f"flow-platform:{name}"]
    )
    [rule] = rules
    jsonschema.validate(rule, prometheus_rule_crd.schema(), cls=jsonschema.Draft7Validator)
    assert f'namespace=~\\"{"|".join(measured)}\\"' in json.dumps(rule["spec"])
    assert (
        rule["metadata"]["labels"].items()
        >= block.get("ruleLabels", {"release": "kube-prometheus-stack"}).items()
    )
    roles = sorted(
        o["metadata"]["namespace"] for o in env_stack.objects("Role") if o["metadata"]["name"] == READER_ROLE
    )
    assert roles == measured
