"""The openflow spark-submit environment as a library user gets it, without any stack config.

Facts are Spark 4.0.1's (``flow_platform.openflow.spark``); the integration tier runs that driver
against a real API server (tests/integration/test_openflow_spark.py). Here: the rendered objects are
strict Kubernetes 1.32, the templates are restricted v1 Pods, the Role holds exactly the driver's
verbs, and spark-defaults binds a job to the namespace.
"""

from typing import Any

import kubernetes_validate
import pulumi
import pytest
import yaml
from component_args import MINIMAL
from flow_platform.openflow import (
    OpenflowSubmitEnvironment,
    memory_overhead_mib,
    pod_memory_mib,
    whole_mebibytes,
)
from flow_platform.validation import ArgsError
from flow_platform_stacks.tooling.harness import Registration, run_program
from flow_platform_stacks.tooling.render import kubernetes_objects

K8S = "1.32.0"
BASE: dict[str, Any] = MINIMAL[OpenflowSubmitEnvironment]


def _render(**extra: Any) -> list[dict[str, Any]]:
    def program() -> None:
        OpenflowSubmitEnvironment("openflow", {**BASE, **extra})  # type: ignore[typeddict-item]

    registrations: list[Registration] = run_program("lib", {}, [], program=program)
    return kubernetes_objects(registrations)


def _one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [found] = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def _templates(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    data = _one(objects, "ConfigMap", "openflow-pod-templates")["data"]
    assert sorted(data) == ["driver-pod-template.yaml", "executor-pod-template.yaml"]
    return {key.split("-")[0]: yaml.safe_load(text) for key, text in data.items()}


def _defaults(objects: list[dict[str, Any]]) -> dict[str, str]:
    text = _one(objects, "ConfigMap", "openflow-spark-defaults")["data"]["spark-defaults.conf"]
    props = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split(" ", 1)
            props[key] = value
    return props


@pytest.fixture(scope="module")
def minimal() -> list[dict[str, Any]]:
    return _render()


DYNAMIC = {"dynamic_allocation": {"min_executors": 1, "max_executors": 8}}
CLAIMS = {"on_demand_claim_storage_class": "gp3", "on_demand_claim_size": "50Gi"}


@pytest.mark.parametrize(
    "extra",
    [{}, DYNAMIC, CLAIMS, {"local_dir_medium": "memory", "local_dir_size": "512Mi"}],
    ids=["minimal", "dynamic", "claims", "tmpfs"],
)
def test_every_object_and_both_templates_are_strict_kubernetes_1_32(extra: dict[str, Any]) -> None:
    objects = _render(
        **extra,
        ui_clients={"namespace": "ingress-nginx", "labels": {"app.kubernetes.io/name": "ingress-nginx"}},
        data_endpoints=[{"name": "s3", "cidrs": ["52.218.0.0/17"], "ports": [443]}],
        submitter_groups=["openflow-submitters"],
    )
    for obj in objects:
        kubernetes_validate.validate(obj, K8S, strict=True)
    for template in _templates(objects).values():
        kubernetes_validate.validate(template, K8S, strict=True)


def test_a_template_with_a_typo_fails_the_strict_check(minimal: list[dict[str, Any]]) -> None:
    template = _templates(minimal)["driver"]
    template["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesytem"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(template, K8S, strict=True)


@pytest.mark.parametrize("role", ["driver", "executor"])
def test_templates_meet_restricted_pod_security_with_spark_s_uid(
    minimal: list[dict[str, Any]], role: str
) -> None:
    pod = _templates(minimal)[role]["spec"]
    assert pod["securityContext"] == {
        "fsGroup": 185,
        "fsGroupChangePolicy": "OnRootMismatch",
        "runAsGroup": 185,
        "runAsNonRoot": True,
        "runAsUser": 185,  # the image's USER is the name 'spark': the kubelet needs the number
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    [container] = pod["containers"]
    assert container["name"] == f"spark-kubernetes-{role}"  # Spark's own container name
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert not any("hostPath" in v or "hostNetwork" in pod for v in pod["volumes"])
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    # where Spark writes with a read-only root: tmp (JVM, entrypoint), work dir (fetched files), local dir
    assert mounts == {
        "/tmp": "tmp",
        "/opt/spark/work-dir": "work-dir",
        "/var/data/spark-local-dir-1": "spark-local-dir-1",
    }
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert all(
        "emptyDir" in volumes[name] and volumes[name]["emptyDir"]["sizeLimit"] for name in mounts.values()
    )
    assert pod["restartPolicy"] == "Never" and pod["enableServiceLinks"] is False


def test_only_the_driver_gets_a_token(minimal: list[dict[str, Any]]) -> None:
    templates = _templates(minimal)
    assert templates["driver"]["spec"]["serviceAccountName"] == "openflow-driver"
    assert templates["driver"]["spec"]["automountServiceAccountToken"] is True
    assert templates["executor"]["spec"]["serviceAccountName"] == "openflow-executor"
    assert templates["executor"]["spec"]["automountServiceAccountToken"] is False
    executor = _one(minimal, "ServiceAccount", "openflow-executor")
    assert executor["automountServiceAccountToken"] is False
    assert _one(minimal, "ServiceAccount", "openflow-driver")["automountServiceAccountToken"] is False
    roles = [o for o in minimal if o["kind"] == "Role"]
    bindings = [o for o in minimal if o["kind"] == "RoleBinding"]
    assert [r["metadata"]["name"] for r in roles] == ["openflow-driver"]
    [binding] = bindings
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "openflow-driver", "namespace": "openflow-dev"}
    ]
    assert not [o for o in minimal if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]


def test_the_driver_role_holds_exactly_what_spark_4_0_1_s_driver_calls(minimal: list[dict[str, Any]]) -> None:
    # read from spark-kubernetes_2.13-4.0.1.jar (javap of its fabric8 7.1.0 calls), see spark.py:
    # ExecutorPodsAllocator, ExecutorPodsLifecycleManager, Executor Pods{Watch,Polling}SnapshotSource,
    # KubernetesClusterSchedulerBackend (executor ConfigMap, stop(): deletes by label)
    role = _one(minimal, "Role", "openflow-driver")
    granted = {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    expected = {
        *(("", "pods", v) for v in ("create", "get", "list", "watch", "patch", "delete", "deletecollection")),
        ("", "configmaps", "create"),
        ("", "configmaps", "deletecollection"),
        ("", "services", "deletecollection"),
        ("", "persistentvolumeclaims", "create"),
        ("", "persistentvolumeclaims", "list"),
        ("", "persistentvolumeclaims", "deletecollection"),
    }
    assert granted == expected
    assert not any("*" in str(rule) for rule in role["rules"])


def test_submitters_get_a_role_only_when_groups_are_named() -> None:
    objects = _render(submitter_groups=["team-b", "team-a"])
    role = _one(objects, "Role", "openflow-submitter")
    assert {v for r in role["rules"] for v in r["verbs"]} <= {
        "create",
        "delete",
        "get",
        "list",
        "patch",
        "watch",
    }
    binding = _one(objects, "RoleBinding", "openflow-submitter")
    assert [s["name"] for s in binding["subjects"]] == ["team-a", "team-b"]
    assert all(s["kind"] == "Group" for s in binding["subjects"])


def test_spark_defaults_bind_jobs_to_the_namespace_accounts_templates_and_ports(
    minimal: list[dict[str, Any]],
) -> None:
    props = _defaults(minimal)
    assert props["spark.kubernetes.namespace"] == "openflow-dev"
    assert props["spark.kubernetes.container.image"] == "apache/spark:4.0.1"
    assert props["spark.kubernetes.authenticate.driver.serviceAccountName"] == "openflow-driver"
    assert props["spark.kubernetes.authenticate.executor.serviceAccountName"] == "openflow-executor"
    assert (
        props["spark.kubernetes.driver.podTemplateFile"] == "${env:SPARK_CONF_DIR}/driver-pod-template.yaml"
    )
    assert (
        props["spark.kubernetes.executor.podTemplateFile"]
        == "${env:SPARK_CONF_DIR}/executor-pod-template.yaml"
    )
    # the executors' block manager listens on a random port unless spark.blockManager.port is set
    assert (props["spark.driver.port"], props["spark.blockManager.port"], props["spark.ui.port"]) == (
        "7078",
        "7079",
        "4040",
    )
    assert (props["spark.executor.memory"], props["spark.driver.memory"]) == ("4096m", "2048m")
    assert props["spark.dynamicAllocation.enabled"] == "false" and props["spark.executor.instances"] == "2"


def test_dynamic_allocation_comes_with_shuffle_tracking() -> None:
    props = _defaults(_render(**DYNAMIC))
    assert props["spark.dynamicAllocation.enabled"] == "true"
    assert props["spark.dynamicAllocation.shuffleTracking.enabled"] == "true"
    assert (props["spark.dynamicAllocation.minExecutors"], props["spark.dynamicAllocation.maxExecutors"]) == (
        "1",
        "8",
    )
    assert props["spark.dynamicAllocation.initialExecutors"] == "1"
    assert "spark.executor.instances" not in props


def test_on_demand_claims_replace_the_executor_local_dir() -> None:
    objects = _render(**CLAIMS)
    props = _defaults(objects)
    prefix = "spark.kubernetes.executor.volumes.persistentVolumeClaim.spark-local-dir-1"
    assert props[f"{prefix}.options.claimName"] == "OnDemand"
    assert props[f"{prefix}.options.storageClass"] == "gp3"
    assert props[f"{prefix}.options.sizeLimit"] == "50Gi"
    assert props[f"{prefix}.mount.path"] == "/var/data/spark-local-dir-1"
    assert props["spark.kubernetes.driver.ownPersistentVolumeClaim"] == "true"
    executor = _templates(objects)["executor"]["spec"]
    # Spark adds the claim's volume itself: a template volume of the same name would be a duplicate
    assert "spark-local-dir-1" not in {v["name"] for v in executor["volumes"]}
    assert "spark-local-dir-1" in {v["name"] for v in _templates(objects)["driver"]["spec"]["volumes"]}


def test_tmpfs_local_dirs_are_memory_backed_and_bounded() -> None:
    templates = _templates(_render(local_dir_medium="memory", local_dir_size="512Mi"))
    for template in templates.values():
        [local] = [v for v in template["spec"]["volumes"] if v["name"] == "spark-local-dir-1"]
        assert local["emptyDir"] == {"medium": "Memory", "sizeLimit": "512Mi"}


@pytest.mark.parametrize(
    ("memory", "factor", "pod"),
    [(4096, 0.1, 4096 + 409), (1024, 0.1, 1024 + 384), (2048, 0.4, 2048 + 819), (8192, 0.1, 8192 + 819)],
)
def test_pod_memory_is_heap_plus_max_of_factor_and_384_mib(memory: int, factor: float, pod: int) -> None:
    assert pod_memory_mib(memory, factor) == pod
    assert memory_overhead_mib(memory, factor) == pod - memory


def test_templates_carry_the_sizes_spark_gives_the_pods(minimal: list[dict[str, Any]]) -> None:
    templates = _templates(minimal)
    assert templates["executor"]["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": "1", "memory": "4505Mi"},
        "limits": {"memory": "4505Mi"},
    }
    assert templates["driver"]["spec"]["containers"][0]["resources"]["limits"] == {"memory": "2432Mi"}


def test_network_policies_open_exactly_spark_s_flows(minimal: list[dict[str, Any]]) -> None:
    flows = set()
    for policy in (o for o in minimal if o["kind"] == "NetworkPolicy"):
        spec = policy["spec"]
        selected = tuple(sorted(spec["podSelector"]["matchLabels"].items()))
        [direction] = spec["policyTypes"]
        for rule in spec[direction.lower()]:
            for peer in rule["from" if direction == "Ingress" else "to"]:
                if "ipBlock" in peer:
                    who = peer["ipBlock"]["cidr"]
                else:
                    who = ",".join(f"{k}={v}" for k, v in sorted(peer["podSelector"]["matchLabels"].items()))
                    if "namespaceSelector" in peer:
                        who += "@" + peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                for port in rule["ports"]:
                    flows.add((dict(selected)["spark-role"], direction, who, port["port"], port["protocol"]))
    dns = "k8s-app=kube-dns@kube-system"
    assert flows == {
        ("driver", "Ingress", "spark-role=executor", 7078, "TCP"),
        ("driver", "Ingress", "spark-role=executor", 7079, "TCP"),
        ("driver", "Egress", "spark-role=executor", 7079, "TCP"),
        ("driver", "Egress", "10.0.0.1/32", 443, "TCP"),
        ("driver", "Egress", dns, 53, "UDP"),
        ("driver", "Egress", dns, 53, "TCP"),
        ("executor", "Ingress", "spark-role=driver", 7079, "TCP"),
        ("executor", "Ingress", "spark-role=executor", 7079, "TCP"),
        ("executor", "Egress", "spark-role=driver", 7078, "TCP"),
        ("executor", "Egress", "spark-role=driver", 7079, "TCP"),
        ("executor", "Egress", "spark-role=executor", 7079, "TCP"),
        ("executor", "Egress", dns, 53, "UDP"),
        ("executor", "Egress", dns, 53, "TCP"),
    }


def test_ui_clients_and_data_endpoints_add_their_own_rules() -> None:
    objects = _render(
        ui_clients={"namespace": "ingress-nginx", "labels": {"app.kubernetes.io/name": "ingress-nginx"}},
        data_endpoints=[{"name": "s3", "cidrs": ["52.218.0.0/17"], "ports": [443]}],
    )
    ui = _one(objects, "NetworkPolicy", "openflow-driver-ui")["spec"]
    assert ui["ingress"][0]["ports"] == [{"port": 4040, "protocol": "TCP"}]
    assert ui["podSelector"] == {"matchLabels": {"spark-role": "driver"}}
    for role in ("driver", "executor"):
        s3 = _one(objects, "NetworkPolicy", f"openflow-{role}-to-s3")["spec"]
        assert s3["egress"][0]["to"] == [{"ipBlock": {"cidr": "52.218.0.0/17"}}]


@pytest.mark.parametrize(
    ("extra", "key", "problem"),
    [
        ({**DYNAMIC, "executor_instances": 3}, "['dynamic_allocation']", "not both"),
        ({"dynamic_allocation": {"min_executors": 4, "max_executors": 2}}, "['dynamic_allocation']", "above"),
        ({"executor_memory": "4500M"}, "['executor_memory']", "whole number of MiB"),
        ({"driver_memory_overhead_factor": 0}, "['driver_memory_overhead_factor']", "greater than 0"),
        ({"local_dir_medium": "ssd"}, "['local_dir_medium']", "'disk', 'memory'"),
        ({"image": "apache/spark"}, "['image']", "no tag or digest"),
    ],
)
def test_bad_args_name_the_component_and_key(extra: dict[str, Any], key: str, problem: str) -> None:
    with pytest.raises(ArgsError) as raised:
        OpenflowSubmitEnvironment("x", {**BASE, **extra})  # type: ignore[typeddict-item]
    assert raised.value.key == key and problem in raised.value.problem, str(raised.value)


def test_whole_mebibytes_refuses_what_spark_cannot_express() -> None:
    assert whole_mebibytes("4Gi") == 4096
    with pytest.raises(ValueError, match="whole number of MiB"):
        whole_mebibytes("1G")


def test_component_outputs(minimal: list[dict[str, Any]]) -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        env = OpenflowSubmitEnvironment("openflow", BASE)  # type: ignore[arg-type]
        pulumi.Output.all(
            env.driver_service_account, env.executor_service_account, env.spark_defaults_config_map
        ).apply(lambda values: seen.update(accounts=values))

    run_program("lib", {}, [], program=program)
    assert seen["accounts"] == ["openflow-driver", "openflow-executor", "openflow-spark-defaults"]
