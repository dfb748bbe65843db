"""HyperFlow as the env stacks deploy it: RBAC, engine env, job template, storage, redis, jobs."""

from typing import Any

import kubernetes_validate
import pytest
import yaml
from conftest import Stack

NS = {"dev": "hyperflow-dev", "tst": "hyperflow-tst", "prd": "hyperflow-prd"}
RBAC = "kubernetes:rbac.authorization.k8s.io/v1"


def _engine(stack: Stack, env: str) -> dict[str, Any]:
    return stack.one("Deployment", "hyperflow-engine", NS[env])


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


@pytest.mark.parametrize("env", ["dev", "tst", "prd"])
def test_engine_role_grants_exactly_jobs_pods_and_logs_in_its_namespace(stack: Any, env: str) -> None:
    rendered = stack(env)
    role = rendered.one("Role", "hyperflow-engine", NS[env])
    assert role["rules"] == [
        {
            "apiGroups": ["batch"],
            "resources": ["jobs"],
            "verbs": ["create", "delete", "get", "list", "watch"],
        },
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    ]
    binding = rendered.one("RoleBinding", "hyperflow-engine", NS[env])
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "hyperflow-engine",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "hyperflow-engine", "namespace": NS[env]}
    ]
    assert not rendered.of_type(f"{RBAC}:ClusterRole") and not rendered.of_type(f"{RBAC}:ClusterRoleBinding")
    pod = _engine(rendered, env)["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "hyperflow-engine"
    assert pod["automountServiceAccountToken"] is True, "the engine calls the API server"


def test_engine_env_is_the_reference_one_with_config_sizes(stack: Any) -> None:
    engine = _engine(stack("tst"), "tst")
    [container] = engine["spec"]["template"]["spec"]["containers"]
    env = _env(container)
    assert env["REDIS_URL"] == "redis://redis:6379"
    assert env["HF_VAR_function"] == "k8sCommand"
    assert env["HF_VAR_JOB_TEMPLATE_PATH"] == "/opt/hyperflow/job-template.yaml"
    assert env["HF_VAR_WORKER_CONTAINER"] == (
        "111111111111.dkr.ecr.us-west-2.amazonaws.com/flow-platform-docker-hub/hyperflowwms/montage-worker:v1.0.3"
    )
    assert env["HF_VAR_WORK_DIR"] == "/work_dir"
    assert env["HF_VAR_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert (env["HF_VAR_CPU_REQUEST"], env["HF_VAR_MEM_REQUEST"]) == ("500m", "1Gi")
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/opt/hyperflow/job-template.yaml"]["subPath"] == "job-template.yaml"
    assert "/work_dir" in mounts
    assert container["image"].endswith("/flow-platform-docker-hub/hyperflowwms/hyperflow:v1.5.7")
    assert container["securityContext"]["runAsNonRoot"] is True


def test_server_mode_adds_the_service_on_8080(stack: Any) -> None:
    tst = stack("tst")
    service = tst.one("Service", "hyperflow-engine", NS["tst"])["spec"]
    assert [(p["name"], p["port"]) for p in service["ports"]] == [("http", 8080)]
    [container] = _engine(tst, "tst")["spec"]["template"]["spec"]["containers"]
    assert container["command"][:2] == ["hflow", "start-server"]
    assert not [
        s for s in stack("dev").objects("Service", NS["dev"]) if s["metadata"]["name"] == "hyperflow-engine"
    ]


@pytest.mark.parametrize(
    ("env", "cpu", "memory", "limit", "ttl", "backoff"),
    [
        ("dev", "250m", "512Mi", "512Mi", 600, 0),
        ("prd", "1", "2Gi", "4Gi", 3600, 1),
    ],
)
def test_job_template_is_a_valid_restricted_job(
    stack: Any, env: str, cpu: str, memory: str, limit: str, ttl: int, backoff: int
) -> None:
    config_map = stack(env).one("ConfigMap", "hyperflow-job-template", NS[env])
    job = yaml.safe_load(config_map["data"]["job-template.yaml"])
    kubernetes_validate.validate(job, "1.32.0", strict=True)
    assert job["apiVersion"] == "batch/v1" and job["kind"] == "Job"
    assert job["spec"]["ttlSecondsAfterFinished"] == ttl
    assert job["spec"]["backoffLimit"] == backoff
    pod = job["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["resources"] == {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": limit}}
    assert container["image"] == "${containerName}" and "${command}" in container["command"][-1]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["seccompProfile"]
    assert pod["automountServiceAccountToken"] is False
    assert {"name": "work-dir", "persistentVolumeClaim": {"claimName": "work-dir"}} in pod["volumes"]
    assert job["metadata"]["labels"]["hyperflow.io/job"] == "true"


def test_efs_storage_has_no_privileged_pod(stack: Any) -> None:
    for env in ("tst", "prd"):
        rendered = stack(env)
        assert not rendered.objects("Deployment", f"hyperflow-nfs-{env}")
        for deployment in rendered.objects("Deployment"):
            for container in deployment["spec"]["template"]["spec"]["containers"]:
                assert not (container.get("securityContext") or {}).get("privileged"), deployment["metadata"]
        claim = rendered.one("PersistentVolumeClaim", "work-dir", NS[env])["spec"]
        assert claim["volumeName"] == f"{NS[env]}-work-dir"
        pv = rendered.one("PersistentVolume", f"{NS[env]}-work-dir")["spec"]
        assert pv["csi"]["driver"] == "efs.csi.aws.com"


def test_in_cluster_storage_isolates_the_privileged_nfs_server(stack: Any) -> None:
    dev = stack("dev")
    namespace = dev.one("Namespace", "hyperflow-nfs-dev")["metadata"]
    assert namespace["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert "NFS" in namespace["annotations"]["flow-platform/pod-security-exception"]
    server = dev.one("Deployment", "nfs-server", "hyperflow-nfs-dev")
    assert server["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] is True
    service = dev.one("Service", "nfs-server", "hyperflow-nfs-dev")["spec"]
    assert sorted(p["port"] for p in service["ports"]) == [111, 2049, 20048]
    pv = dev.one("PersistentVolume", "hyperflow-dev-work-dir")["spec"]
    assert pv["nfs"] == {"server": "<computed:hyperflow-nfs-server-service.spec.clusterIP>", "path": "/"}
    assert pv["accessModes"] == ["ReadWriteMany"] and pv["persistentVolumeReclaimPolicy"] == "Retain"
    claim = dev.one("PersistentVolumeClaim", "work-dir", "hyperflow-dev")["spec"]
    assert claim["accessModes"] == ["ReadWriteMany"] and claim["volumeName"] == "hyperflow-dev-work-dir"
    mounts = dev.one("NetworkPolicy", "nfs-server-allow-node-mounts", "hyperflow-nfs-dev")["spec"]["ingress"][
        0
    ]
    assert mounts["from"] == [{"ipBlock": {"cidr": "10.10.0.0/16"}}]
    # the HyperFlow namespace itself stays restricted
    assert (
        dev.one("Namespace", "hyperflow-dev")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        == "restricted"
    )


def test_redis_is_reachable_only_from_the_engine_and_job_pods(stack: Any) -> None:
    prd = stack("prd")
    policy = prd.one("NetworkPolicy", "redis-allow-engine-and-jobs", NS["prd"])["spec"]
    assert policy["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "redis", "deployment": "prd"}}
    [rule] = policy["ingress"]
    assert rule["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "hyperflow-engine", "deployment": "prd"}}},
        {"podSelector": {"matchLabels": {"deployment": "prd", "hyperflow.io/job": "true"}}},
    ]
    assert rule["ports"] == [{"port": 6379, "protocol": "TCP"}]
    redis = prd.one("Deployment", "redis", NS["prd"])["spec"]["template"]["spec"]
    assert redis["securityContext"]["runAsUser"] == 999
    [container] = redis["containers"]
    assert container["readinessProbe"]["tcpSocket"]["port"] == "redis"
    assert container["resources"]["limits"]["memory"] == "1Gi"
    api = prd.one("NetworkPolicy", "hyperflow-engine-allow-api-server", NS["prd"])["spec"]["egress"][0]
    assert api == {"to": [{"ipBlock": {"cidr": "10.40.0.0/16"}}], "ports": [{"port": 443, "protocol": "TCP"}]}


def test_one_shot_jobs_only_where_configured(stack: Any) -> None:
    assert [j["metadata"]["name"] for j in stack("dev").objects("Job", NS["dev"])] == ["data-staging"]
    tst_jobs = {j["metadata"]["name"]: j for j in stack("tst").objects("Job", NS["tst"])}
    assert sorted(tst_jobs) == ["log-parser", "viz-trace"]
    assert stack("prd").objects("Job", NS["prd"]) == []
    job = tst_jobs["log-parser"]["spec"]
    assert job["ttlSecondsAfterFinished"] == 3600
    pod = job["template"]["spec"]
    [container] = pod["containers"]
    assert container["command"][0] == "hflow-log-parser"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["image"].startswith("111111111111.dkr.ecr.")
