"""Flink as the env stacks deploy it: operator objects, CRDs, FlinkDeployment, jobs, RBAC, bring-up."""

import shutil
from pathlib import Path
from typing import Any

import flow_platform.flink as flink_pkg
import pytest
import yaml
from conftest import ENVS, ROOT, Stack, data_yaml, raw_stack_yaml
from flow_platform.flink import flink_configuration
from flow_platform_stacks.errors import ConfigError
from flow_platform_stacks.tooling.harness import FlowMocks, RecordingMonitor, read_stack_file, run_program

CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
CHART_CRDS = Path(flink_pkg.__file__).parent / "chart" / "crds"


class ReadingMonitor(RecordingMonitor):
    """Also keeps the resources a program reads (``Resource.get``): type, name, id."""

    def __init__(self, mocks: FlowMocks) -> None:
        super().__init__(mocks)
        self.reads: list[tuple[str, str, str]] = []

    def ReadResource(self, request: Any) -> Any:
        self.reads.append((request.type, request.name, request.id))
        return super().ReadResource(request)  # type: ignore[no-untyped-call]


def _project_with(tmp_path: Path, change: dict[str, Any], cluster: dict[str, Any] | None = None) -> Path:
    """The project's stack files with ``change[env]`` merged into flink.operator (None deletes)."""
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    for env in ENVS:
        doc = raw_stack_yaml(env)
        block = doc["config"]["flow-platform:flink"]
        for key, value in change.get(env, {}).items():
            if value is None:
                block["operator"].pop(key, None)
            else:
                block["operator"][key] = value
        block["cluster"].update((cluster or {}).get(env, {}))
        (tmp_path / f"Pulumi.{env}.yaml").write_text(yaml.safe_dump(doc))
    return tmp_path


def _run(project: Path, env: str, monitor: RecordingMonitor | None = None) -> list[Any]:
    config, secrets = read_stack_file(project / f"Pulumi.{env}.yaml", project / "Pulumi.yaml")
    return run_program(
        env, config, secrets, monitor=monitor or RecordingMonitor(FlowMocks()), project_dir=project
    )


def _error(project: Path, env: str) -> str:
    with pytest.raises(ConfigError) as info:
        _run(project, env)
    return str(info.value)


# --- items 5, 6, 10: CRDs and operator objects shipped with the package, visible offline -------


def test_no_chart_or_file_is_fetched_at_deploy_time(env_stack: Stack) -> None:
    types = {r.type for r in env_stack.registrations}
    assert not any(t.startswith(("kubernetes:helm.sh", "kubernetes:yaml")) for t in types)
    inputs = str([r.inputs for r in env_stack.registrations])
    assert "downloads.apache.org" not in inputs and "raw.githubusercontent.com" not in inputs


def test_crds_are_the_shipped_release_files_retained_and_protected_where_set(stack: Any) -> None:
    for env, protect in (("prd", True), ("tst", False), ("uat", True)):
        # the stack's other CRDs (the spark-operator's) are test_spark_operator's
        crds = [c for c in stack(env).of_type(CRD) if c.inputs["spec"]["group"] == "flink.apache.org"]
        assert len(crds) == 4
        for crd in crds:
            assert crd.options["retain_on_delete"] is True, "deleting a CRD deletes every env's objects"
            assert crd.options["protect"] is protect
            shipped = data_yaml(CHART_CRDS / f"{crd.inputs['metadata']['name']}-v1.yml")
            assert crd.inputs["spec"] == shipped["spec"]
    readme = (CHART_CRDS.parent / "README.md").read_text()
    assert "release-1.15.0" in readme and "apache/flink-kubernetes-operator" in readme


def test_the_stack_without_the_crds_reads_them_so_a_missing_crd_fails_first(tmp_path: Path) -> None:
    # dev shares the nonprod cluster with tst, which manages the CRDs
    monitor = ReadingMonitor(FlowMocks())
    registrations = _run(_project_with(tmp_path, {}), "dev", monitor)
    assert not [r for r in registrations if r.type == CRD]
    crds = sorted(i for t, _, i in monitor.reads if t == CRD and i.endswith(".flink.apache.org"))
    assert crds == sorted(p.name.removesuffix("-v1.yml") for p in CHART_CRDS.glob("*.yml"))


def test_every_env_runs_its_own_operator_and_writes_only_its_own_namespaces(env_stack: Stack) -> None:
    env = env_stack.name
    [deployment] = env_stack.objects("Deployment", f"flink-operator-{env}")
    assert deployment["metadata"]["name"] == "flink-kubernetes-operator"
    namespaces = {o["metadata"].get("namespace") for o in env_stack.objects()} - {None}
    others = {f"{kind}-{other}" for other in ENVS if other != env for kind in ("flink", "flink-operator")}
    assert not namespaces & others, "destroying this env would strand (or touch) another env's objects"
    config = env_stack.one("ConfigMap", "flink-operator-config", f"flink-operator-{env}")["data"]
    assert f"kubernetes.operator.watched.namespaces: flink-{env}" in config["flink-conf.yaml"]
    assert "flink-operator" in {r["metadata"]["name"] for r in env_stack.objects("Role", f"flink-{env}")}


def test_flink_cluster_depends_on_the_operator_so_deletes_run_before_it(env_stack: Stack) -> None:
    [cluster] = env_stack.of_type("flow-platform:index:FlinkCluster")
    [operator] = [r for r in env_stack.of_type("kubernetes:apps/v1:Deployment") if "flink-operator" in r.name]
    assert operator.urn in cluster.options["depends_on"]


def test_operator_deployment_is_visible_with_resources_probes_and_the_pinned_image(stack: Any) -> None:
    prd = stack("prd")
    deployment = prd.one("Deployment", "flink-kubernetes-operator", "flink-operator-prd")
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["image"] == (
        "333333333333.dkr.ecr.us-west-2.amazonaws.com"
        "/flow-platform-docker-hub/apache/flink-kubernetes-operator:1.15.0"
    )
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": "1Gi"},
        "limits": {"memory": "1Gi"},
    }
    assert container["readinessProbe"]["httpGet"]["port"] == "health-port"
    assert container["livenessProbe"]["httpGet"] == {"path": "/", "port": "health-port"}
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["serviceAccountName"] == "flink-operator"
    assert not [r for r in prd.of_type(CLUSTER_ROLE) if "FlinkOperator" in r.urn], "watches by Roles only"
    assert not prd.objects("Secret", "flink-operator-prd"), "no webhook, no keystore secret"


# --- item 4: one CRD manager per cluster, a clear error otherwise --------------------------------


def test_a_second_crd_manager_on_a_cluster_is_a_config_error(tmp_path: Path) -> None:
    project = _project_with(tmp_path, {"dev": {"manageCrds": True}})
    for env in ("dev", "tst"):
        message = _error(project, env)
        assert "flow-platform:flink.operator.manageCrds" in message
        assert "stacks dev, tst all manage the Flink CRDs of cluster 'nonprod'" in message


def test_a_cluster_without_a_crd_manager_is_a_config_error(tmp_path: Path) -> None:
    project = _project_with(tmp_path, {"tst": {"manageCrds": None}})
    assert "no stack manages the Flink CRDs of cluster 'nonprod'" in _error(project, "dev")
    assert _run(project, "uat")  # another cluster is unaffected


def _deployment(stack: Stack, env: str) -> dict[str, Any]:
    return stack.one("FlinkDeployment", "events", f"flink-{env}")


def test_ha_checkpoints_and_state_backend(stack: Any) -> None:
    config = _deployment(stack("prd"), "prd")["spec"]["flinkConfiguration"]
    assert config["high-availability.type"] == "kubernetes"
    assert config["high-availability.storageDir"] == "file:///flink-data/ha"
    # Flink 1.20 names (CheckpointingOptions: the state.* names are only deprecated keys there)
    assert config["execution.checkpointing.dir"] == "file:///flink-data/checkpoints"
    assert config["execution.checkpointing.savepoint-dir"] == "file:///flink-data/savepoints"
    assert config["execution.checkpointing.num-retained"] == "5"
    assert config["execution.checkpointing.interval"] == "30 s"
    assert (
        config["state.backend.type"] == "rocksdb" and config["execution.checkpointing.incremental"] == "true"
    )
    assert not [k for k in config if k.startswith(("state.checkpoints", "state.savepoints"))]
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
    assert not [r for r in prd.of_type(CLUSTER_ROLE) if "flink" in r.urn.lower()]


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
        "events-taskmanager-allow-api-server",
        "events-taskmanager-allow-peers",
        "events-taskmanager-to-jobmanager",
        "events-taskmanager-to-peers",
    ]
    rest = prd.one("NetworkPolicy", "events-jobmanager-allow-rest", "flink-prd")["spec"]["ingress"][0]
    assert {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "flink-operator-prd"}}
    } in rest["from"]
    assert rest["ports"] == [{"port": 8081, "protocol": "TCP"}]
    tm = prd.one("NetworkPolicy", "events-taskmanager-to-jobmanager", "flink-prd")["spec"]["egress"][0]
    assert tm["ports"] == [{"port": 6123, "protocol": "TCP"}, {"port": 6124, "protocol": "TCP"}]
    operator = prd.one("NetworkPolicy", "flink-operator-allow-jobmanagers", "flink-operator-prd")["spec"][
        "egress"
    ][0]
    assert operator["ports"] == [{"port": 8081, "protocol": "TCP"}]


def test_flink_configuration_refuses_to_override_typed_options() -> None:
    with pytest.raises(ValueError, match="set by flow-platform"):
        flink_configuration(2, True, "60 s", 3, {"type": "fixed-delay"}, {"state.backend.type": "hashmap"})


def test_the_webhook_gets_a_keystore_password_of_ours_and_its_allow_rule(tmp_path: Path) -> None:
    project = _project_with(
        tmp_path, {"uat": {"webhook": True, "webhookKeystorePassword": {"secure": "v1:c2VjcmV0"}}}
    )
    rendered = Stack("uat", _run(project, "uat"), {})
    [secret] = rendered.objects("Secret", "flink-operator-uat")
    assert secret["metadata"]["name"] == "flink-operator-webhook-keystore"
    certificate = rendered.one("Certificate", "flink-operator-serving-cert", "flink-operator-uat")
    assert certificate["spec"]["keystores"]["pkcs12"]["passwordSecretRef"] == {
        "name": "flink-operator-webhook-keystore",
        "key": "password",
    }
    pod = rendered.one("Deployment", "flink-kubernetes-operator", "flink-operator-uat")["spec"]["template"]
    [webhook] = [c for c in pod["spec"]["containers"] if c["name"] == "flink-webhook"]
    assert webhook["env"][0]["valueFrom"]["secretKeyRef"]["name"] == "flink-operator-webhook-keystore"
    assert "cGFzc3dvcmQxMjM0" not in str(rendered.objects()), "the chart's public default password"
    rule = rendered.one("NetworkPolicy", "flink-operator-allow-webhook", "flink-operator-uat")["spec"]
    assert rule["ingress"][0] == {
        "from": [{"ipBlock": {"cidr": "10.30.0.0/16"}}],
        "ports": [{"port": 9443, "protocol": "TCP"}],
    }
    (tmp_path / "b").mkdir()
    no_password = _project_with(tmp_path / "b", {"uat": {"webhook": True}})
    assert "flow-platform:flink.operator.webhookKeystorePassword" in _error(no_password, "uat")


# --- item 9: checkpoint key names per Flink version -----------------------------------------------


def test_checkpoint_keys_follow_the_flink_version() -> None:
    old = flink_configuration(2, True, "60 s", 3, {"type": "fixed-delay"}, flink_version="v1_19")
    assert old["state.checkpoints.dir"] == "file:///flink-data/checkpoints"
    assert old["state.backend.incremental"] == "true"
    assert not [
        k for k in old if k.startswith("execution.checkpointing.") and k != "execution.checkpointing.interval"
    ]
    for version in ("v1_20", "v2_0", "v2_2"):
        new = flink_configuration(2, True, "60 s", 3, {"type": "fixed-delay"}, flink_version=version)
        assert new["execution.checkpointing.dir"] == "file:///flink-data/checkpoints"
        assert "state.checkpoints.dir" not in new and "state.backend.incremental" not in new


# --- item 7: only the Flink versions operator 1.15.0 runs -----------------------------------------


@pytest.mark.parametrize(
    ("version", "word"), [("v1_13", "refuses"), ("v1_14", "refuses"), ("v1_17", "deprecates")]
)
def test_flink_versions_the_operator_refuses_or_deprecates_are_config_errors(
    tmp_path: Path, version: str, word: str
) -> None:
    project = _project_with(tmp_path, {}, {"prd": {"flinkVersion": version}})
    message = _error(project, "prd")
    assert f"flow-platform:flink.cluster.flinkVersion = '{version}'" in message
    assert f"operator 1.15.0 {word} {version}" in message


# --- item 1: TaskManagers reach the API server under HA, with read access to ConfigMaps only ------


def test_taskmanagers_may_watch_the_ha_configmaps_and_nothing_else(stack: Any) -> None:
    prd = stack("prd")
    config = _deployment(prd, "prd")["spec"]["flinkConfiguration"]
    assert config["kubernetes.taskmanager.service-account"] == "flink-taskmanager"
    role = prd.one("Role", "flink-taskmanager", "flink-prd")
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}
    ]
    account = prd.one("ServiceAccount", "flink-taskmanager", "flink-prd")
    assert account["automountServiceAccountToken"] is True
    egress = prd.one("NetworkPolicy", "events-taskmanager-allow-api-server", "flink-prd")["spec"]
    assert egress["podSelector"]["matchLabels"] == {"app": "events", "component": "taskmanager"}
    assert egress["egress"][0]["to"] == [{"ipBlock": {"cidr": "10.40.0.0/16"}}]
    dev = stack("dev")  # no HA: no API access for TaskManagers
    assert dev.one("Role", "flink-taskmanager", "flink-dev")["rules"] == []
    assert (
        dev.one("ServiceAccount", "flink-taskmanager", "flink-dev")["automountServiceAccountToken"] is False
    )
    assert "events-taskmanager-allow-api-server" not in str(dev.objects("NetworkPolicy", "flink-dev"))


# --- item 3: pulumi up waits for a healthy job; the snapshot comes after RUNNING ------------------


def _annotations(stack: Stack, kind: str, name: str, namespace: str) -> dict[str, str]:
    return dict(stack.one(kind, name, namespace)["metadata"]["annotations"])


def test_pulumi_waits_for_running_jobs_and_the_snapshot_after_them(stack: Any) -> None:
    import json

    uat = stack("uat")
    deployment = _annotations(uat, "FlinkDeployment", "events", "flink-uat")
    assert json.loads(deployment["pulumi.com/waitFor"]) == [
        "jsonpath={.status.jobStatus.state}=RUNNING",
        "jsonpath={.status.jobManagerDeploymentStatus}=READY",
    ]
    assert deployment["pulumi.com/timeoutSeconds"] == "900"
    snapshot = _annotations(uat, "FlinkStateSnapshot", "events-savepoint", "flink-uat")
    assert json.loads(snapshot["pulumi.com/waitFor"]) == ["jsonpath={.status.state}=COMPLETED"]
    [flink] = [r for r in uat.registrations if r.name == "flink-cluster-deployment"]
    [savepoint] = [r for r in uat.registrations if r.name == "flink-cluster-savepoint"]
    assert flink.urn in savepoint.options["depends_on"], "created only after the job is RUNNING"
    dev = stack("dev")
    session = _annotations(dev, "FlinkDeployment", "events", "flink-dev")
    assert json.loads(session["pulumi.com/waitFor"]) == [
        "jsonpath={.status.jobManagerDeploymentStatus}=READY"
    ]
    job = _annotations(dev, "FlinkSessionJob", "top-speed", "flink-dev")
    assert json.loads(job["pulumi.com/waitFor"]) == ["jsonpath={.status.jobStatus.state}=RUNNING"]


def test_the_wait_annotation_needs_a_provider_that_honours_it() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert '"pulumi-kubernetes>=4.18.4' in text  # waitFor since 4.18.0; precedence fixed in 4.18.4


# --- item 2: session-job jars the operator accepts, and its egress to fetch them ------------------


def test_session_jobs_fetch_https_jars_through_an_egress_rule(stack: Any) -> None:
    dev = stack("dev")
    config = dev.one("ConfigMap", "flink-operator-config", "flink-operator-dev")["data"]["flink-conf.yaml"]
    assert "kubernetes.operator.user.artifacts.allowed-schemes: https" in config
    rule = dev.one("NetworkPolicy", "flink-operator-allow-artifacts", "flink-operator-dev")["spec"]["egress"][
        0
    ]
    assert rule["ports"] == [{"port": 443, "protocol": "TCP"}]
    [session] = dev.objects("FlinkSessionJob", "flink-dev")
    assert session["spec"]["job"]["jarURI"].startswith("https://repo1.maven.org/")


@pytest.mark.parametrize(
    ("jar", "problem"),
    [
        ("local:///opt/flink/examples/streaming/TopSpeedWindowing.jar", "scheme 'local' is not in"),
        ("https://10.1.2.3/jobs/a.jar", "restricted"),
        ("https://artifacts.flow.svc/jobs/a.jar", "restricted"),
        ("http://repo.example.com/a.jar", "scheme 'http' is not in"),
    ],
)
def test_session_jars_the_operator_would_refuse_are_config_errors(
    tmp_path: Path, jar: str, problem: str
) -> None:
    sessions = [{"name": "top-speed", "jarUri": jar, "parallelism": 2}]
    project = _project_with(tmp_path, {}, {"dev": {"sessionJobs": sessions}})
    message = _error(project, "dev")
    assert "flow-platform:flink.cluster.sessionJobs[0].jarUri" in message and problem in message


def test_other_schemes_set_the_operator_and_its_egress_together(tmp_path: Path) -> None:
    sessions = [{"name": "top-speed", "jarUri": "http://repo.example.com/a.jar", "parallelism": 2}]
    project = _project_with(
        tmp_path, {"dev": {"artifactSchemes": ["https", "http"]}}, {"dev": {"sessionJobs": sessions}}
    )
    dev = Stack("dev", _run(project, "dev"), {})
    config = dev.one("ConfigMap", "flink-operator-config", "flink-operator-dev")["data"]["flink-conf.yaml"]
    assert "kubernetes.operator.user.artifacts.allowed-schemes: http,https" in config
    rule = dev.one("NetworkPolicy", "flink-operator-allow-artifacts", "flink-operator-dev")["spec"]["egress"][
        0
    ]
    assert rule["ports"] == [{"port": 80, "protocol": "TCP"}, {"port": 443, "protocol": "TCP"}]
    (tmp_path / "x").mkdir()
    without_egress = _project_with(tmp_path / "x", {"dev": {"artifactCidrs": None}})
    assert "flow-platform:flink.operator.artifactCidrs" in _error(without_egress, "dev")
