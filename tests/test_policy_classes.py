"""Coverage by class: every check of each class with a violating and a compliant case.

- Pod Security Standards: the catalogue of kubernetes/pod-security-admission ``policy/check_*.go``
  at v0.32.0 (Kubernetes 1.32), level and version from config.
- Every kind that carries a pod spec, ``*Patch`` variants, and custom resources' pods (FlinkDeployment,
  SparkApplication) with their images and resources.
- RBAC dangerous permissions and broad bindings; Services; StatefulSet claim templates; S3; IAM.
"""

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "policy"))
from flow_policies import aws, cluster, pss, stack, workloads
from flow_policies.core import UNKNOWN, Resource, has
from flow_policies.pods import jvm_memory, pod_specs

MIRROR = "123456789012.dkr.ecr.us-west-2.amazonaws.com/"


def good_pod() -> dict[str, Any]:
    """Restricted at v1.32, with resources, probes, no token, read-only root."""
    return {
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumes": [
            {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
            {"name": "t", "emptyDir": {}},
        ],
        "containers": [
            {
                "name": "app",
                "image": f"{MIRROR}app:1.2.3",
                "ports": [{"containerPort": 8080}],
                "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
                    "readOnlyRootFilesystem": True,
                },
                "readinessProbe": {"tcpSocket": {"port": 8080}},
                "livenessProbe": {"tcpSocket": {"port": 8080}},
            }
        ],
    }


def pod_resource(pod: dict[str, Any], kind: str = "kubernetes:core/v1:Pod") -> Resource:
    return Resource(kind, "p", {"metadata": {"name": "p", "namespace": "team"}, "spec": pod}, "urn:p")


def security(pod: dict[str, Any], **config: Any) -> list[str]:
    return workloads.security_context(pod_resource(pod), config)


def put(pod: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    node: Any = pod
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value
    return pod


C = "containers.0.securityContext"
# check id -> (field path, violating value, compliant value); every check of the v1.32 catalogue
PSS_CASES: dict[str, list[tuple[str, Any, Any]]] = {
    "hostNamespaces": [("hostNetwork", True, False), ("hostPID", True, False), ("hostIPC", True, False)],
    "privileged": [(f"{C}.privileged", True, False)],
    "capabilities_baseline": [(f"{C}.capabilities.add", ["SYS_ADMIN"], ["NET_BIND_SERVICE"])],
    "hostPorts": [("containers.0.ports", [{"containerPort": 80, "hostPort": 80}], [{"containerPort": 80}])],
    "appArmorProfile": [
        (f"{C}.appArmorProfile", {"type": "Unconfined"}, {"type": "RuntimeDefault"}),
        (
            "securityContext.appArmorProfile",
            {"type": "Unconfined"},
            {"type": "Localhost", "localhostProfile": "x"},
        ),
    ],
    "seLinuxOptions": [
        (f"{C}.seLinuxOptions", {"type": "spc_t"}, {"type": "container_t"}),
        ("securityContext.seLinuxOptions", {"user": "system_u"}, {"level": "s0:c123,c456"}),
        (f"{C}.seLinuxOptions", {"role": "sysadm_r"}, {"type": "container_engine_t"}),
    ],
    "procMount": [(f"{C}.procMount", "Unmasked", "Default")],
    "seccompProfile_baseline": [(f"{C}.seccompProfile", {"type": "Unconfined"}, {"type": "Localhost"})],
    "sysctls": [
        (
            "securityContext.sysctls",
            [{"name": "kernel.msgmax", "value": "1"}],
            [{"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"}],
        )
    ],
    "windowsHostProcess": [(f"{C}.windowsOptions", {"hostProcess": True}, {"hostProcess": False})],
    "restrictedVolumes": [
        (
            "volumes.1",
            {"name": "t", "nfs": {"server": "x", "path": "/"}},
            {"name": "t", "csi": {"driver": "efs.csi.aws.com"}},
        )
    ],
    "allowPrivilegeEscalation": [(f"{C}.allowPrivilegeEscalation", True, False)],
    "runAsNonRoot": [("securityContext.runAsNonRoot", False, True), (f"{C}.runAsNonRoot", False, True)],
    "runAsUser": [("securityContext.runAsUser", 0, 1000), (f"{C}.runAsUser", 0, 65532)],
    "seccompProfile_restricted": [("securityContext.seccompProfile", {}, {"type": "RuntimeDefault"})],
    "capabilities_restricted": [
        (f"{C}.capabilities.drop", ["NET_RAW"], ["ALL"]),
        (f"{C}.capabilities.add", ["CHOWN"], ["NET_BIND_SERVICE"]),
    ],
}


def test_the_catalogue_is_kubernetes_1_32s() -> None:
    assert set(PSS_CASES) | {"hostPathVolumes"} == set(pss.CATALOGUE)
    baseline = {c.id for c in pss.CHECKS if c.level == "baseline"} | {"hostPathVolumes"}
    restricted = {c.id for c in pss.CHECKS if c.level == "restricted"}
    assert (len(baseline), len(restricted)) == (11, 6), "17 check_*.go files at v0.32.0"
    assert security(good_pod()) == []


@pytest.mark.parametrize(
    ("check", "path", "bad", "good"), [(c, *case) for c, cases in PSS_CASES.items() for case in cases]
)
def test_each_pss_check_fails_the_violation_and_passes_the_fix(
    check: str, path: str, bad: Any, good: Any
) -> None:
    problems = security(put(good_pod(), path, bad))
    assert any(f": {check})" in p for p in problems), problems
    assert security(put(good_pod(), path, good)) == []


def test_pss_level_and_version_come_from_config() -> None:
    root = put(good_pod(), "securityContext.runAsUser", 0)
    assert security(root, pssLevel="baseline") == [], "runAsUser is a restricted check"
    assert security(root, pssVersion="v1.22") == [], "runAsUser appeared in 1.23"
    assert any("runAsUser" in p for p in security(root, pssVersion="v1.23"))
    rmem = put(good_pod(), "securityContext.sysctls", [{"name": "net.ipv4.tcp_rmem", "value": "1"}])
    assert security(rmem, pssVersion="v1.31"), "tcp_rmem became safe in 1.32"
    assert security(rmem, pssVersion="v1.32") == []
    engine = put(good_pod(), f"{C}.seLinuxOptions", {"type": "container_engine_t"})
    assert security(engine, pssVersion="v1.30") and security(engine, pssVersion="latest") == []


def test_windows_and_user_namespace_pods_are_judged_as_the_admission_plugin_does() -> None:
    windows = good_pod()
    windows["os"] = {"name": "windows"}
    del windows["containers"][0]["securityContext"]["allowPrivilegeEscalation"]
    assert security(windows) == []
    assert security(windows, pssVersion="v1.24"), "the Windows relaxation came with 1.25"
    userns = put(good_pod(), "securityContext.runAsUser", 0)
    userns["hostUsers"] = False
    assert security(userns) == []


def test_a_pss_finding_is_let_off_only_by_its_allowance() -> None:
    pod = put(good_pod(), "volumes.1", {"name": "t", "nfs": {"server": "x", "path": "/"}})
    config: dict[str, Any] = {
        "exceptions": [
            {"namespace": "team", "name": "p", "allow": ["volume:iscsi"], "reason": "not this one"}
        ]
    }
    assert security(pod, **config)
    config["exceptions"][0]["allow"] = ["volume:nfs"]
    assert security(pod, **config) == []


POD_KINDS = {
    "kubernetes:core/v1:Pod": lambda pod: {"spec": pod},
    "kubernetes:core/v1:PodTemplate": lambda pod: {"template": {"spec": pod}},
    "kubernetes:core/v1:ReplicationController": lambda pod: {"spec": {"template": {"spec": pod}}},
    "kubernetes:apps/v1:Deployment": lambda pod: {"spec": {"template": {"spec": pod}}},
    "kubernetes:apps/v1:StatefulSet": lambda pod: {"spec": {"template": {"spec": pod}}},
    "kubernetes:apps/v1:DaemonSet": lambda pod: {"spec": {"template": {"spec": pod}}},
    "kubernetes:apps/v1:ReplicaSet": lambda pod: {"spec": {"template": {"spec": pod}}},
    "kubernetes:batch/v1:Job": lambda pod: {"spec": {"template": {"spec": pod}}},
    "kubernetes:batch/v1:CronJob": lambda pod: {
        "spec": {"jobTemplate": {"spec": {"template": {"spec": pod}}}}
    },
}
KINDS = [*POD_KINDS, *(f"{k}Patch" for k in POD_KINDS)]


def _kind(type_: str, pod: dict[str, Any]) -> Resource:
    props = POD_KINDS[type_.removesuffix("Patch")](pod)
    return Resource(type_, "w", {"metadata": {"name": "w", "namespace": "team"}, **props}, "urn:w")


@pytest.mark.parametrize("type_", KINDS)
def test_every_pod_carrying_kind_and_its_patch_is_judged(type_: str) -> None:
    assert len(pod_specs(_kind(type_, good_pod()))) == 1
    config = {"allowedRegistries": [MIRROR], "maxCpu": "4", "maxMemory": "8Gi"}
    for rule in (workloads.security_context, workloads.resources, workloads.images, workloads.no_host_path):
        assert rule(_kind(type_, good_pod()), config) == [], rule.__name__
    bad = good_pod()
    bad["containers"][0].update(image="docker.io/app:latest", resources={"requests": {"cpu": "16"}})
    bad["containers"][0]["securityContext"]["privileged"] = True
    bad["volumes"].append({"name": "h", "hostPath": {"path": "/"}})
    assert workloads.security_context(_kind(type_, bad), config)
    assert any(
        "above this environment's maximum" in p for p in workloads.resources(_kind(type_, bad), config)
    )
    assert len(workloads.images(_kind(type_, bad), config)) == 2
    assert workloads.no_host_path(_kind(type_, bad), config)


def test_a_patch_judges_what_it_sets_not_what_it_leaves() -> None:
    partial = {"containers": [{"name": "app", "image": f"{MIRROR}app:1.2.4"}]}
    patch = _kind("kubernetes:apps/v1:DeploymentPatch", partial)
    for rule in (
        workloads.security_context,
        workloads.resources,
        workloads.probes,
        workloads.read_only_root_filesystem,
    ):
        assert rule(patch, {}) == [], rule.__name__
    full = _kind("kubernetes:apps/v1:Deployment", partial)
    assert (
        workloads.security_context(full, {}) and workloads.resources(full, {}) and workloads.probes(full, {})
    )


def test_ephemeral_and_init_containers_are_judged() -> None:
    pod = good_pod()
    pod["ephemeralContainers"] = [
        {"name": "debug", "image": "busybox", "securityContext": {"privileged": True}}
    ]
    problems = security(pod)
    assert any("ephemeralContainers[0].securityContext.privileged" in p for p in problems)
    assert any("ephemeralContainers[0].image" in p for p in workloads.images(pod_resource(pod), {}))
    pod = good_pod()
    pod["initContainers"] = [
        {"name": "init", "image": f"{MIRROR}init:1", "securityContext": {"runAsUser": 0}}
    ]
    assert any("initContainers[0].securityContext.runAsUser" in p for p in security(pod))
    assert any("initContainers[0].resources" in p for p in workloads.resources(pod_resource(pod), {}))


def flink(**spec: Any) -> Resource:
    base = {
        "image": f"{MIRROR}flink:1.20.1",
        "podTemplate": {
            "spec": {k: v for k, v in good_pod().items() if k != "containers"}
            | {
                "containers": [
                    {
                        "name": "flink-main-container",
                        "securityContext": good_pod()["containers"][0]["securityContext"],
                    }
                ]
            }
        },
        "jobManager": {"resource": {"cpu": 1, "memory": "2048m"}},
        "taskManager": {"resource": {"cpu": 2, "memory": "4g"}},
    }
    base.update(spec)
    props = {"metadata": {"name": "f", "namespace": "flink"}, "spec": base}
    return Resource("kubernetes:flink.apache.org/v1beta1:FlinkDeployment", "f", props, "urn:f")


def test_flink_deployment_pods_are_built_as_the_operator_builds_them() -> None:
    config = {"allowedRegistries": [MIRROR], "requireDigest": True, "maxMemory": "3Gi", "maxCpu": "4"}
    jm, _tm = pod_specs(flink())
    assert jm.spec["containers"][0]["resources"] == {
        "requests": {"cpu": 1, "memory": str(2048 * 2**20)},
        "limits": {"memory": str(2048 * 2**20)},
    }
    assert workloads.security_context(flink(), {}) == []
    assert any("flink:1.20.1' is not pinned by digest" in p for p in workloads.images(flink(), config))
    assert workloads.images(flink(image="flink:1.20.1"), {"allowedRegistries": [MIRROR]})
    too_big = workloads.resources(flink(), config)
    assert [p.split(":")[1].strip() for p in too_big] == [
        "spec.taskManager(pod).containers[flink-main-container].resources.requests.memory",
        "spec.taskManager(pod).containers[flink-main-container].resources.limits.memory",
    ]
    role_template = {
        "podTemplate": {
            "spec": {
                "containers": [{"name": "flink-main-container", "securityContext": {"privileged": True}}]
            }
        }
    }
    problems = workloads.security_context(
        flink(taskManager={"resource": {"cpu": 1, "memory": "1g"}, **role_template}), {}
    )
    assert any(
        "spec.taskManager(pod).containers[flink-main-container].securityContext.privileged" in p
        for p in problems
    )
    assert not any("jobManager" in p for p in problems)


def spark(**driver: Any) -> Resource:
    ctx = good_pod()["containers"][0]["securityContext"]
    spec = {
        "image": f"{MIRROR}spark:3.5.3",
        "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "d"}}],
        "driver": {
            "cores": 1,
            "memory": "512m",
            "serviceAccount": "spark",
            "securityContext": ctx,
            "podSecurityContext": good_pod()["securityContext"],
            **driver,
        },
        "executor": {
            "cores": 2,
            "memory": "2g",
            "instances": 2,
            "securityContext": ctx,
            "podSecurityContext": good_pod()["securityContext"],
            "template": {
                "spec": {
                    "containers": [{"name": "spark-kubernetes-executor"}],
                    "automountServiceAccountToken": False,
                }
            },
        },
    }
    props = {"metadata": {"name": "s", "namespace": "spark"}, "spec": spec}
    return Resource("kubernetes:sparkoperator.k8s.io/v1beta2:SparkApplication", "s", props, "urn:s")


def test_spark_application_pods_carry_the_roles_image_security_and_resources() -> None:
    driver, executor = pod_specs(spark())
    assert driver.spec["containers"][0]["resources"]["requests"] == {"cpu": 1, "memory": str(512 * 2**20)}
    assert executor.spec["containers"][0]["image"] == f"{MIRROR}spark:3.5.3"
    assert workloads.security_context(spark(), {}) == []
    assert workloads.resources(spark(), {"maxMemory": "1Gi"}) and not workloads.resources(
        spark(), {"maxMemory": "4Gi"}
    )
    assert any("a CPU limit" in p for p in workloads.resources(spark(coreLimit="1200m"), {}))
    bad = spark(image="docker.io/spark:latest", securityContext={"privileged": True}, hostNetwork=True)
    assert any(
        "spec.driver(pod).containers[spark-kubernetes-driver].image" in p for p in workloads.images(bad, {})
    )
    problems = workloads.security_context(bad, {})
    assert any("driver(pod).hostNetwork" in p for p in problems) and any("privileged" in p for p in problems)
    assert any(
        "spec.driver(pod).automountServiceAccountToken" in p
        for p in workloads.service_account_token(spark(), {})
    ), "the driver calls the API server: it needs an exception, executors do not"
    assert not any("executor" in p for p in workloads.service_account_token(spark(), {}))
    sidecar = spark(sidecars=[{"name": "log", "image": "fluent-bit", "securityContext": {"runAsUser": 0}}])
    assert any("containers[log]" in p for p in workloads.security_context(sidecar, {}))


def test_a_scheduled_spark_application_runs_its_template() -> None:
    app = spark(securityContext={"privileged": True})
    scheduled = Resource(
        "kubernetes:sparkoperator.k8s.io/v1beta2:ScheduledSparkApplication",
        "s",
        {"metadata": app.props["metadata"], "spec": {"schedule": "@daily", "template": app.props["spec"]}},
    )
    assert [p.path for p in pod_specs(scheduled)] == [
        "spec.template.driver(pod)",
        "spec.template.executor(pod)",
    ]
    assert any("spec.template.driver(pod)" in p for p in workloads.security_context(scheduled, {}))


def test_jvm_memory_sizes_become_kubernetes_quantities() -> None:
    assert jvm_memory("2048m", "b") == str(2048 * 2**20)
    assert jvm_memory("4g", "b") == str(4 * 2**30)
    assert jvm_memory("512", "m") == str(512 * 2**20), "Spark's default unit is MiB"
    assert jvm_memory("1 gb", "b") == str(2**30)
    assert jvm_memory(UNKNOWN, "m") is UNKNOWN


def test_custom_resources_fit_the_namespaces_limit_range() -> None:
    limit_range = Resource(
        "kubernetes:core/v1:LimitRange",
        "lr",
        {
            "metadata": {"name": "lr", "namespace": "flink"},
            "spec": {"limits": [{"type": "Container", "max": {"memory": "3Gi", "cpu": "2"}}]},
        },
        "urn:lr",
    )
    found = stack.namespace_limits([limit_range, flink()], {})
    assert [urn for urn, _ in found] == ["urn:f", "urn:f"]
    assert all("taskManager" in m and "above the namespace's LimitRange max 3Gi" in m for _, m in found)
    small = flink(taskManager={"resource": {"cpu": 2, "memory": "3g"}})
    assert stack.namespace_limits([limit_range, small], {}) == []


def _role(rules: list[dict[str, Any]], cluster_scope: bool = False) -> Resource:
    type_ = cluster.ROLE_TYPES[1 if cluster_scope else 0]
    metadata = {"name": "r"} if cluster_scope else {"name": "r", "namespace": "n"}
    return Resource(type_, "r", {"metadata": metadata, "rules": rules}, "urn:r")


@pytest.mark.parametrize(
    ("group", "resource", "verbs", "allowance"),
    [
        ("", "pods/exec", ["create"], "rbac:pod-exec"),
        ("", "pods/attach", ["create", "get"], "rbac:pod-exec"),
        ("", "pods/portforward", ["create"], "rbac:pod-exec"),
        ("", "secrets", ["get", "list"], "rbac:secrets"),
        ("", "nodes/proxy", ["get"], "rbac:nodes-proxy"),
        ("", "serviceaccounts/token", ["create"], "rbac:token-request"),
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations", ["patch"], "rbac:webhooks"),
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations", ["delete"], "rbac:webhooks"),
        ("", "pods", ["escalate"], "rbac:escalate"),
        ("rbac.authorization.k8s.io", "clusterroles", ["bind"], "rbac:bind"),
        ("", "users", ["impersonate"], "rbac:impersonate"),
        ("*", "*", ["*"], "rbac:wildcard"),
    ],
)
@pytest.mark.parametrize("cluster_scope", [False, True])
def test_dangerous_rbac_permissions(
    group: str, resource: str, verbs: list[str], allowance: str, cluster_scope: bool
) -> None:
    role = _role([{"apiGroups": [group], "resources": [resource], "verbs": verbs}], cluster_scope)
    assert cluster.rbac_rules(role, {}), (resource, verbs)
    exception = {
        "namespace": "" if cluster_scope else "n",
        "name": "r",
        "allow": [allowance],
        "reason": "the operator needs it",
    }
    assert cluster.rbac_rules(role, {"exceptions": [exception]}) == []


def test_harmless_rbac_permissions_pass() -> None:
    rules = [
        {
            "apiGroups": [""],
            "resources": ["pods", "pods/log", "configmaps"],
            "verbs": ["get", "list", "watch"],
        },
        {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "delete"]},
        {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["get"]},
        {"apiGroups": ["apps"], "resources": ["secrets"], "verbs": ["get"]},  # no such resource in apps
        {
            "apiGroups": ["admissionregistration.k8s.io"],
            "resources": ["validatingwebhookconfigurations"],
            "verbs": ["get"],
        },
    ]
    assert cluster.rbac_rules(_role(rules), {}) == []


@pytest.mark.parametrize("binding_type", cluster.BINDING_TYPES)
@pytest.mark.parametrize(
    "subject",
    [
        {"kind": "User", "name": "system:anonymous"},
        {"kind": "Group", "name": "system:unauthenticated"},
        {"kind": "Group", "name": "system:authenticated"},
        {"kind": "Group", "name": "system:serviceaccounts"},
        {"kind": "Group", "name": "system:serviceaccounts:team"},
    ],
)
def test_bindings_to_everyone(binding_type: str, subject: dict[str, str]) -> None:
    props: dict[str, Any] = {
        "metadata": {"name": "b", "namespace": "n"},
        "roleRef": {"name": "reader"},
        "subjects": [subject],
    }
    assert cluster.rbac_bindings(Resource(binding_type, "b", props), {})
    props["subjects"] = [{"kind": "ServiceAccount", "name": "engine", "namespace": "n"}]
    assert cluster.rbac_bindings(Resource(binding_type, "b", props), {}) == []


@pytest.mark.parametrize(
    ("spec", "fragment", "allowance"),
    [
        ({"type": "NodePort"}, "is NodePort", "node-port"),
        ({"type": "ClusterIP", "externalIPs": ["203.0.113.9"]}, "claims external IPs", "external-ips"),
        ({"type": "LoadBalancer"}, "accepts every source address", "load-balancer"),
        (
            {"type": "LoadBalancer", "loadBalancerSourceRanges": ["0.0.0.0/0"]},
            "accepts every source",
            "load-balancer",
        ),
    ],
)
def test_service_exposure(spec: dict[str, Any], fragment: str, allowance: str) -> None:
    svc = Resource(
        "kubernetes:core/v1:Service", "s", {"metadata": {"name": "s", "namespace": "n"}, "spec": spec}
    )
    assert fragment in cluster.service_exposure(svc, {})[0]
    exception = {"namespace": "n", "name": "s", "allow": [allowance], "reason": "a documented need"}
    assert cluster.service_exposure(svc, {"exceptions": [exception]}) == []
    fixed = (
        {"type": "LoadBalancer", "loadBalancerSourceRanges": ["10.0.0.0/16"]}
        if spec["type"] == "LoadBalancer"
        else {"type": "ClusterIP"}
    )
    ok = Resource(svc.type, "s", {"metadata": svc.props["metadata"], "spec": fixed})
    assert cluster.service_exposure(ok, {}) == []


def test_statefulset_claim_templates_follow_the_storage_class_rules() -> None:
    config = {"allowedStorageClasses": ["gp3", "efs-sc"], "sharedFileClasses": ["efs-sc"]}

    def sts(template: dict[str, Any]) -> Resource:
        props = {
            "metadata": {"name": "s", "namespace": "n"},
            "spec": {"volumeClaimTemplates": [{"spec": template}]},
        }
        return Resource("kubernetes:apps/v1:StatefulSet", "s", props)

    assert (
        "'standard' is not an allowed class"
        in cluster.storage_classes(sts({"storageClassName": "standard"}), config)[0]
    )
    assert (
        "ReadWriteMany on 'gp3'"
        in cluster.storage_classes(
            sts({"storageClassName": "gp3", "accessModes": ["ReadWriteMany"]}), config
        )[0]
    )
    assert "None is not an allowed class" in cluster.storage_classes(sts({}), config)[0]
    assert (
        cluster.storage_classes(sts({"storageClassName": "efs-sc", "accessModes": ["ReadWriteMany"]}), config)
        == []
    )


DENY_PLAIN_HTTP = {"Bool": {"aws:SecureTransport": "false"}}
TLS_ONLY = json.dumps(
    {
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "*",
                "Condition": DENY_PLAIN_HTTP,
            }
        ]
    }
)
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"


def _bucket_stack(**parts: Any) -> list[Resource]:
    bucket = Resource("aws:s3/bucket:Bucket", "data", {"bucket": "flow-data"}, "urn:bucket")
    dep = {"bucket": ["urn:bucket"]}
    found = {
        "sse": Resource(
            SSE,
            "sse",
            {
                "bucket": "<id>",
                "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}],
            },
            "urn:sse",
            dependencies=dep,
        ),
        "pab": Resource(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "pab",
            {"bucket": "flow-data", **dict.fromkeys(aws.PUBLIC_ACCESS_FLAGS, True)},
            "urn:pab",
        ),
        "policy": Resource(
            "aws:s3/bucketPolicy:BucketPolicy",
            "pol",
            {"bucket": "<id>", "policy": TLS_ONLY},
            "urn:pol",
            dependencies=dep,
        ),
        "versioning": Resource(
            "aws:s3/bucketVersioning:BucketVersioning",
            "ver",
            {"bucket": "<id>", "versioningConfiguration": {"status": "Enabled"}},
            "urn:ver",
            dependencies=dep,
        ),
    }
    found.update(parts)
    return [bucket, *(r for r in found.values() if r is not None)]


@pytest.mark.parametrize(
    ("missing", "fragment"),
    [
        ("sse", "no server-side encryption configuration"),
        ("pab", "no BucketPublicAccessBlock"),
        ("policy", "requests without TLS are not denied"),
        ("versioning", "versioning is not enabled"),
    ],
)
def test_s3_buckets(missing: str, fragment: str) -> None:
    assert aws.s3_buckets(_bucket_stack(), {"requireKms": True}) == []
    [(urn, problem)] = aws.s3_buckets(_bucket_stack(**{missing: None}), {})
    assert urn == "urn:bucket" and fragment in problem and problem.startswith("S3 bucket flow-data: ")


def test_s3_settings_that_are_present_but_weak() -> None:
    sse = Resource(
        SSE,
        "sse",
        {
            "bucket": "flow-data",
            "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
        },
    )
    assert "encrypted with 'AES256'" in aws.s3_buckets(_bucket_stack(sse=sse), {"requireKms": True})[0][1]
    pab = Resource(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "pab",
        {"bucket": "flow-data", "blockPublicAcls": True},
    )
    assert (
        "blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets not true"
        in aws.s3_buckets(_bucket_stack(pab=pab), {})[0][1]
    )
    exception = {
        "namespace": "",
        "name": "data",
        "allow": ["unversioned"],
        "reason": "a cache rebuilt from the source",
    }
    assert aws.s3_buckets(_bucket_stack(versioning=None), {"exceptions": [exception]}) == []
    unknown_ref = Resource("aws:s3/bucketPolicy:BucketPolicy", "pol", {"bucket": UNKNOWN, "policy": UNKNOWN})
    assert aws.s3_buckets(_bucket_stack(policy=unknown_ref), {}) == [], (
        "an unknown reference may be this bucket's"
    )


def _policy(*statements: dict[str, Any]) -> Resource:
    return Resource(
        "aws:iam/rolePolicy:RolePolicy", "p", {"policy": json.dumps({"Statement": list(statements)})}
    )


@pytest.mark.parametrize(
    ("statement", "fragment"),
    [
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, "grants * (admin-like)"),
        (
            {"Effect": "Allow", "Action": "iam:*", "Resource": "arn:aws:iam::1:role/x"},
            "grants iam:* (admin-like)",
        ),
        ({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}, "allows everything but a list"),
        ({"Effect": "Allow", "Action": ["ecr:PutImage"], "Resource": "*"}, "ecr:PutImage on every resource"),
        ({"Effect": "Allow", "Action": ["s3:Put*"], "Resource": ["*"]}, "s3:Put* on every resource"),
        ({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}, "iam:PassRole on every resource"),
    ],
)
def test_iam_permissions(statement: dict[str, Any], fragment: str) -> None:
    assert any(fragment in p for p in aws.iam_roles(_policy(statement), {}))


def test_iam_permissions_that_pass() -> None:
    reads = {
        "Effect": "Allow",
        "Action": ["ecr:GetAuthorizationToken", "s3:ListAllMyBuckets"],
        "Resource": "*",
    }
    scoped = {
        "Effect": "Allow",
        "Action": ["ecr:PutImage"],
        "Resource": "arn:aws:ecr:us-west-2:1:repository/x",
    }
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*"}
    assert aws.iam_roles(_policy(reads, scoped, deny), {}) == []


@pytest.mark.parametrize(
    ("principal", "condition", "bad"),
    [
        ({"Federated": "arn:aws:iam::1:oidc-provider/x"}, None, True),
        ({"AWS": "arn:aws:iam::222222222222:root"}, None, True),
        ({"AWS": "arn:aws:iam::222222222222:root"}, {"StringEquals": {"sts:ExternalId": "x"}}, False),
        ({"Service": "ec2.amazonaws.com"}, None, False),
    ],
)
def test_trust_policies_need_conditions(principal: dict[str, str], condition: Any, bad: bool) -> None:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    role = Resource("aws:iam/role:Role", "r", {"assumeRolePolicy": json.dumps({"Statement": [statement]})})
    assert bool(aws.iam_roles(role, {})) is bad


def test_has_is_three_valued() -> None:
    assert has(["ALL"], "ALL") is True and has(["X"], "ALL") is False
    assert has(UNKNOWN, "ALL") is None and has(["X", UNKNOWN], "ALL") is None and has(None, "ALL") is False


def test_the_readme_lists_every_policy_with_its_level_per_env() -> None:
    from flow_policies.pack import ALLOWANCES, RULES

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    section = readme[readme.index("### Policies, levels per env") : readme.index("### Add an exception")]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 7 and cells[0].startswith("`"):
            rows[cells[0].split("`")[1]] = cells
    assert set(rows) == {r.name for r in RULES}
    letters = {"advisory": "A", "mandatory": "M"}
    for env_index, env in enumerate(("dev", "tst", "uat", "prd")):
        config = json.loads((root / "policy" / "config" / f"{env}.json").read_text())
        for name, cells in rows.items():
            entry = config.get(name, config.get("all", "mandatory"))
            level = entry if isinstance(entry, str) else entry.get("enforcementLevel", config.get("all"))
            assert cells[3 + env_index] == letters[level], (name, env)
    named = {a for cells in rows.values() for a in cells[2].replace("`", "").split(", ")}
    plain = {a for a in ALLOWANCES if not a.startswith(("capability:", "volume:"))}
    assert plain <= named, sorted(plain - named)


def _s3_program(with_versioning: bool) -> None:
    import pulumi
    import pulumi_aws as aws_sdk

    bucket = aws_sdk.s3.Bucket("data", bucket="flow-data-prd")
    aws_sdk.s3.BucketServerSideEncryptionConfiguration(
        "data-sse",
        bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"}}],
    )
    aws_sdk.s3.BucketPublicAccessBlock(
        "data-pab",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    policy = pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
                    "Condition": DENY_PLAIN_HTTP,
                }
            ],
        }
    )
    aws_sdk.s3.BucketPolicy("data-tls", bucket=bucket.id, policy=policy)
    if with_versioning:
        aws_sdk.s3.BucketVersioning(
            "data-ver", bucket=bucket.id, versioning_configuration={"status": "Enabled"}
        )


@pytest.mark.parametrize("with_versioning", [True, False])
def test_s3_parts_are_matched_to_their_bucket_over_grpc(with_versioning: bool) -> None:
    """The engine tells the pack which resource a ``bucket`` input came from (propertyDependencies):
    the bucket's id is unknown in a preview, so that is how its settings are found."""
    from conftest import ROOT
    from flow_platform_stacks.tooling.harness import run_program
    from flow_platform_stacks.tooling.policy_check import running_pack

    registrations = run_program("s3", {}, [], program=lambda: _s3_program(with_versioning))
    [pab] = [r for r in registrations if r.name == "data-pab"]
    assert pab.inputs["bucket"] != "flow-data-prd", "matched by dependency, not by name"
    with running_pack(ROOT / "policy") as analyzer:
        analyzer.configure({"all": "mandatory", "s3-buckets": {"requireKms": True}})
        found = [d for d in analyzer.analyze(registrations) if d.policy == "s3-buckets"]
    if with_versioning:
        assert found == []
    else:
        [violation] = found
        assert violation.urn.endswith("aws:s3/bucket:Bucket::data")
        assert "S3 bucket flow-data-prd: versioning: versioning is not enabled" in violation.message
