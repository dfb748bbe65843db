"""Flink as the env stacks deploy it: operator chart, CRDs, FlinkDeployment, jobs, RBAC, installers."""

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, Stack, raw_stack_yaml
from flow_platform.flink import OPERATOR_VERSION, flink_configuration
from flow_platform_stacks.errors import ConfigError
from flow_platform_stacks.harness import FlowMocks, RecordingMonitor, read_stack_file, run_program

CHART = "kubernetes:helm.sh/v4:Chart"


def _chart(stack: Stack) -> dict[str, Any]:
    [chart] = stack.of_type(CHART)
    return chart.inputs


def test_operator_chart_is_pinned_with_a_pinned_image_and_no_crds(stack: Any) -> None:
    chart = _chart(stack("prd"))
    assert chart["chart"] == "flink-kubernetes-operator"
    assert chart["version"] == OPERATOR_VERSION == "1.15.0"
    assert chart["repositoryOpts"] == {
        "repo": "https://downloads.apache.org/flink/flink-kubernetes-operator-1.15.0/"
    }
    assert chart["skipCrds"] is True, "CRDs are managed beside the chart so that upgrades reach them"
    assert chart["namespace"] == "flink-operator"
    values = chart["values"]
    assert values["image"] == {
        "repository": "333333333333.dkr.ecr.us-west-2.amazonaws.com"
        "/flow-platform-docker-hub/apache/flink-kubernetes-operator",
        "tag": "1.15.0",
        "pullPolicy": "IfNotPresent",
    }
    assert values["webhook"] == {"create": False}
    assert values["jobServiceAccount"] == {"create": False}
    assert values["rbac"]["jobRole"] == {"create": False}
    assert values["operatorSecurityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_crds_come_from_the_same_release(stack: Any) -> None:
    files = sorted(r.inputs["file"] for r in stack("prd").of_type("kubernetes:yaml/v2:ConfigFile"))
    assert len(files) == 4
    assert all("/release-1.15.0/helm/flink-kubernetes-operator/crds/" in f for f in files)
    [chart] = stack("prd").of_type(CHART)
    assert len([d for d in chart.options["depends_on"] if "ConfigFile" in d]) == 4


def test_watch_namespaces_are_exactly_the_flink_namespaces_on_the_cluster(stack: Any) -> None:
    # dev and tst share the nonprod cluster; tst installs the operator for both
    assert _chart(stack("tst"))["values"]["watchNamespaces"] == ["flink-dev", "flink-tst"]
    assert stack("dev").of_type(CHART) == [], "dev relies on the operator tst installs"
    assert _chart(stack("uat"))["values"]["watchNamespaces"] == ["flink-uat"]
    assert _chart(stack("prd"))["values"]["watchNamespaces"] == ["flink-prd"]


def _deployment(stack: Stack, env: str) -> dict[str, Any]:
    return stack.one("FlinkDeployment", "events", f"flink-{env}")


def test_ha_checkpoints_and_state_backend(stack: Any) -> None:
    config = _deployment(stack("prd"), "prd")["spec"]["flinkConfiguration"]
    assert config["high-availability.type"] == "kubernetes"
    assert config["high-availability.storageDir"] == "file:///flink-data/ha"
    assert config["state.checkpoints.dir"] == "file:///flink-data/checkpoints"
    assert config["state.savepoints.dir"] == "file:///flink-data/savepoints"
    assert config["state.checkpoints.num-retained"] == "5"
    assert config["execution.checkpointing.interval"] == "30 s"
    assert config["state.backend.type"] == "rocksdb" and config["state.backend.incremental"] == "true"
    assert config["restart-strategy.type"] == "exponential-delay"
    assert config["restart-strategy.exponential-delay.max-backoff"] == "2 min"
    assert config["taskmanager.numberOfTaskSlots"] == "2"
    assert "high-availability.type" not in _deployment(stack("dev"), "dev")["spec"]["flinkConfiguration"]


def test_pod_template_mounts_the_shared_claim_with_the_flink_user(env_stack: Stack) -> None:
    spec = _deployment(env_stack, env_stack.name)["spec"]
    pod = spec["podTemplate"]["spec"]
    assert pod["securityContext"]["fsGroup"] == 9999 and pod["securityContext"]["runAsUser"] == 9999
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    [main] = pod["containers"]
    assert main["name"] == "flink-main-container"
    assert main["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert main["securityContext"]["allowPrivilegeEscalation"] is False
    assert main["volumeMounts"] == [{"name": "flink-data", "mountPath": "/flink-data"}]
    assert pod["volumes"] == [{"name": "flink-data", "persistentVolumeClaim": {"claimName": "flink-data"}}]
    assert "hostPath" not in str(spec)
    claim = env_stack.one("PersistentVolumeClaim", "flink-data", f"flink-{env_stack.name}")["spec"]
    assert claim["accessModes"] == ["ReadWriteMany"]


def test_job_manager_role_is_namespaced_and_spelled_out(stack: Any) -> None:
    prd = stack("prd")
    role = prd.one("Role", "flink", "flink-prd")
    verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps", "pods"], "verbs": verbs},
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": verbs},
        {"apiGroups": ["apps"], "resources": ["deployments/finalizers"], "verbs": ["update"]},
    ]
    binding = prd.one("RoleBinding", "flink", "flink-prd")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "flink", "namespace": "flink-prd"}]
    assert _deployment(prd, "prd")["spec"]["serviceAccount"] == "flink"
    assert not prd.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")


def test_application_and_session_variants(stack: Any) -> None:
    prd = _deployment(stack("prd"), "prd")["spec"]
    assert prd["job"] == {
        "jarURI": "local:///opt/flink/examples/streaming/StateMachineExample.jar",
        "parallelism": 8,
        "upgradeMode": "last-state",
        "state": "running",
    }
    assert prd["jobManager"] == {"replicas": 2, "resource": {"cpu": 2, "memory": "4096m"}}
    assert prd["taskManager"] == {"replicas": 4, "resource": {"cpu": 4, "memory": "8192m"}}
    dev = stack("dev")
    assert "job" not in _deployment(dev, "dev")["spec"]
    [session] = dev.objects("FlinkSessionJob", "flink-dev")
    assert session["spec"]["deploymentName"] == "events"
    assert session["spec"]["job"]["parallelism"] == 2


def test_ingress_is_https_only_and_snapshot_on_demand(stack: Any) -> None:
    uat = stack("uat")
    ingress = _deployment(uat, "uat")["spec"]["ingress"]
    assert ingress["tls"] == [{"hosts": ["flink.uat-svc.domain.com"], "secretName": "flink-uat-tls"}]
    assert ingress["annotations"]["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
    [snapshot] = uat.objects("FlinkStateSnapshot", "flink-uat")
    assert snapshot["spec"]["jobReference"] == {"kind": "FlinkDeployment", "name": "events"}
    assert "ingress" not in _deployment(stack("tst"), "tst")["spec"]


def test_network_policies_cover_exactly_flinks_flows(stack: Any) -> None:
    prd = stack("prd")
    names = sorted(p["metadata"]["name"] for p in prd.objects("NetworkPolicy", "flink-prd"))
    assert names == [
        "default-deny",
        "events-flink-allow-dns",
        "events-jobmanager-allow-api-server",
        "events-jobmanager-allow-rest",
        "events-jobmanager-allow-taskmanagers",
        "events-jobmanager-to-taskmanagers",
        "events-taskmanager-allow-peers",
        "events-taskmanager-to-jobmanager",
        "events-taskmanager-to-peers",
    ]
    rest = prd.one("NetworkPolicy", "events-jobmanager-allow-rest", "flink-prd")["spec"]["ingress"][0]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "flink-operator"}}} in rest[
        "from"
    ]
    assert rest["ports"] == [{"port": 8081, "protocol": "TCP"}]
    tm = prd.one("NetworkPolicy", "events-taskmanager-to-jobmanager", "flink-prd")["spec"]["egress"][0]
    assert tm["ports"] == [{"port": 6123, "protocol": "TCP"}, {"port": 6124, "protocol": "TCP"}]
    operator = prd.one("NetworkPolicy", "flink-operator-allow-jobmanagers", "flink-operator")["spec"][
        "egress"
    ][0]
    assert operator["ports"] == [{"port": 8081, "protocol": "TCP"}]


def test_flink_configuration_refuses_to_override_typed_options() -> None:
    with pytest.raises(ValueError, match="set by flow-platform"):
        flink_configuration(2, True, "60 s", 3, {"type": "fixed-delay"}, {"state.backend.type": "hashmap"})


def _project_with(tmp_path: Path, change: dict[str, Any]) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    for env in ("dev", "tst", "uat", "prd"):
        doc = raw_stack_yaml(env)
        if env in change:
            doc["config"]["flow-platform:flink"]["operator"].update(change[env])
        (tmp_path / f"Pulumi.{env}.yaml").write_text(yaml.safe_dump(doc))
    return tmp_path


def _run(project: Path, env: str) -> tuple[list[Any], RecordingMonitor]:
    config, secrets = read_stack_file(project / f"Pulumi.{env}.yaml", project / "Pulumi.yaml")
    monitor = RecordingMonitor(FlowMocks())
    return run_program(env, config, secrets, monitor=monitor, project_dir=project), monitor


def test_a_second_installer_on_a_cluster_is_a_config_error(tmp_path: Path) -> None:
    project = _project_with(
        tmp_path, {"dev": {"install": True, "image": {"repository": "apache/x", "tag": "1"}}}
    )
    for env in ("dev", "tst"):
        with pytest.raises(ConfigError) as info:
            _run(project, env)
        assert "flow-platform:flink.operator.install" in str(info.value)
        assert "stacks dev, tst all install the operator on cluster 'nonprod'" in str(info.value)


def test_a_cluster_without_an_installer_is_a_config_error(tmp_path: Path) -> None:
    project = _project_with(tmp_path, {"tst": {"install": False, "image": None}})
    with pytest.raises(ConfigError, match="no stack installs the operator on cluster 'nonprod'"):
        _run(project, "dev")
    registrations, _ = _run(project, "uat")  # another cluster is unaffected
    assert registrations


def test_the_webhook_switch_turns_on_the_webhook_and_its_allow_rule(tmp_path: Path) -> None:
    project = _project_with(tmp_path, {"uat": {"webhook": True}})
    registrations, _ = _run(project, "uat")
    rendered = Stack("uat", registrations, {})
    assert _chart(rendered)["values"]["webhook"] == {"create": True}
    webhook = rendered.one("NetworkPolicy", "flink-operator-allow-webhook", "flink-operator")["spec"][
        "ingress"
    ][0]
    assert webhook == {
        "from": [{"ipBlock": {"cidr": "10.30.0.0/16"}}],
        "ports": [{"port": 9443, "protocol": "TCP"}],
    }


def test_only_the_installer_may_set_the_operators_image() -> None:
    from flow_platform_stacks.config.flink import OperatorConfig

    with pytest.raises(ValueError, match="installing stack's settings"):
        OperatorConfig.model_validate({"cluster": "nonprod", "install": False, "webhook": True})
