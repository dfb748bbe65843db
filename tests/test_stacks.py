"""Every env stack renders with its guardrails, provider and protection as configured."""

from typing import Any

import pytest
from conftest import ENVS, Stack, raw_stack_yaml, run_config
from flow_platform_stacks.outputs import NAMESPACE_KEYS

K8S_PROVIDER = "pulumi:providers:kubernetes"


def _namespaces(stack: Stack) -> list[str]:
    return sorted(o["metadata"]["name"] for o in stack.objects("Namespace"))


def test_every_env_runs_its_enabled_systems_in_their_own_namespaces(stack: Any) -> None:
    # dev runs HyperFlow's in-cluster NFS server and its FlexLM server in namespaces of their own;
    # every Flink stack runs its own operator in flink-operator-<env>
    assert _namespaces(stack("dev")) == [
        "eventflow-dev",
        "flink-dev",
        "flink-operator-dev",
        "hyperflow-dev",
        "hyperflow-nfs-dev",
        "openflow-dev",
        "partek-dev",
        "partek-license-dev",
        "spark-operator-dev",
    ]
    # tst, uat and prd mirror images into ECR, with the copy job in a namespace of its own
    assert _namespaces(stack("tst")) == [
        "flink-operator-tst",
        "flink-tst",
        "hyperflow-tst",
        "image-mirror-tst",
        "openflow-tst",
        "partek-tst",
        "spark-operator-tst",
    ]
    # uat disables HyperFlow and names its Partek namespace explicitly
    assert _namespaces(stack("uat")) == [
        "flink-operator-uat",
        "flink-uat",
        "image-mirror-uat",
        "openflow-uat",
        "partek-flow-uat",
        "partek-license-uat",
    ]
    assert _namespaces(stack("prd")) == [
        "eventflow-prd",
        "flink-operator-prd",
        "flink-prd",
        "hyperflow-prd",
        "image-mirror-prd",
        "openflow-prd",
        "partek-flow-prd",
        "partek-license-prd",
        "spark-operator-prd",
    ]


def test_every_namespace_has_all_guardrails(env_stack: Stack) -> None:
    for namespace in _namespaces(env_stack):
        labels = env_stack.one("Namespace", namespace)["metadata"]["labels"]
        assert labels["deployment"] == env_stack.name
        # the FlexLM server's (NET_ADMIN) and the in-cluster NFS server's namespaces are the exceptions
        exception = namespace.startswith(("partek-license-", "hyperflow-nfs-"))
        expected = "privileged" if exception else "restricted"
        assert labels["pod-security.kubernetes.io/enforce"] == expected
        assert labels["pod-security.kubernetes.io/warn"] == "restricted"
        assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.32"
        assert labels["app.kubernetes.io/managed-by"] == "pulumi"

        limits = env_stack.one("LimitRange", "default-limits", namespace)["spec"]["limits"]
        assert [limit["type"] for limit in limits] == ["Container"]
        assert {"defaultRequest", "default", "max"} <= set(limits[0])
        assert "memory" in limits[0]["default"], "request-only containers must still get a memory limit"

        hard = env_stack.one("ResourceQuota", "default-quota", namespace)["spec"]["hard"]
        assert {"requests.cpu", "requests.memory", "limits.memory", "pods"} <= set(hard)

        deny = env_stack.one("NetworkPolicy", "default-deny", namespace)["spec"]
        assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_guardrail_values_come_from_the_env_file(stack: Any) -> None:
    prd = stack("prd")
    limits = prd.one("LimitRange", "default-limits", "partek-flow-prd")["spec"]["limits"][0]
    # max.cpu is left out where no CPU limit is wanted: the API server would default every limit to it
    assert limits["max"] == {"memory": "128Gi"}
    assert limits["default"] == {"memory": "8Gi"}
    assert limits["defaultRequest"] == {"cpu": "1", "memory": "2Gi"}
    quota = prd.one("ResourceQuota", "default-quota", "hyperflow-prd")["spec"]["hard"]
    assert quota["pods"] == "300"
    assert quota["requests.cpu"] == "64"
    dev = stack("dev")
    assert dev.one("ResourceQuota", "default-quota", "hyperflow-dev")["spec"]["hard"]["pods"] == "50"


def test_no_cpu_limit_by_default(env_stack: Stack) -> None:
    for limit_range in env_stack.objects("LimitRange"):
        assert "cpu" not in limit_range["spec"]["limits"][0]["default"]


def test_one_kubernetes_provider_built_from_config_and_used_by_every_object(env_stack: Stack) -> None:
    providers = env_stack.of_type(K8S_PROVIDER)
    assert len(providers) == 1
    provider = providers[0]
    assert provider.inputs["context"] == f"flow-{env_stack.name}"
    assert "kubeconfig" not in provider.inputs
    for reg in env_stack.registrations:
        if reg.custom and reg.type.startswith("kubernetes:"):
            assert reg.provider == provider.urn, f"{reg.urn} does not use the stack's provider"


def test_kubeconfig_secret_stays_secret() -> None:
    config = raw_stack_yaml("dev")["config"]
    kube = config["flow-platform:kubernetes"]
    kube.pop("context")
    kube["kubeconfig"] = {"secure": "v1:ZW5jcnlwdGVk"}
    registrations = run_config("dev", config)
    provider = next(r for r in registrations if r.type == K8S_PROVIDER)
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert "context" not in provider.inputs


def test_components_are_parents_of_their_children(env_stack: Stack) -> None:
    """Children are named ``<component>-<part>`` and parented to that component."""
    components = {r.name: r for r in env_stack.registrations if r.type.startswith("flow-platform:index:")}
    assert components
    owned = 0
    for reg in env_stack.registrations:
        owners = [name for name in components if reg.name.startswith(f"{name}-")]
        if not reg.custom or not owners:
            continue
        owner = components[max(owners, key=len)]
        assert reg.parent == owner.urn, f"{reg.urn} is not parented to {owner.urn}"
        owned += 1
    assert owned >= 4 * len(components)


@pytest.mark.parametrize("env", ENVS)
def test_namespaces_are_protected_exactly_where_config_says(stack: Any, env: str) -> None:
    protect = raw_stack_yaml(env)["config"]["flow-platform:protect"]
    rendered = stack(env)
    for reg in rendered.of_type("kubernetes:core/v1:Namespace"):
        assert reg.options["protect"] is protect
    # guardrail objects are not stateful: protecting them would only block legitimate changes
    for reg in rendered.of_type("kubernetes:core/v1:LimitRange"):
        assert reg.options["protect"] is False


def test_env_files_differ_like_real_environments() -> None:
    configs = {env: raw_stack_yaml(env)["config"] for env in ENVS}
    contexts = {c["flow-platform:kubernetes"]["context"] for c in configs.values()}
    assert len(contexts) == 4, "each env deploys into its own cluster context"
    assert [configs[e]["flow-platform:protect"] for e in ENVS] == [False, False, True, True]
    max_memory = [configs[e]["flow-platform:partek"]["limits"]["max"]["memory"] for e in ENVS]
    assert max_memory == ["32Gi", "32Gi", "64Gi", "128Gi"]
    quotas = [configs[e]["flow-platform:partek"]["quota"]["pods"] for e in ENVS]
    assert quotas == sorted(quotas) and len(set(quotas)) == 4


def test_stack_exports_environment_and_namespaces_for_other_stacks(stack: Any) -> None:
    outputs = stack("prd").stack_outputs
    assert outputs["environment"] == "prd"
    known = {
        "flink": "flink-prd",
        "hyperflow": "hyperflow-prd",
        "partek": "partek-flow-prd",
        "partekLicense": "partek-license-prd",
        "flinkOperator": "flink-operator-prd",
        "imageMirror": "image-mirror-prd",
        "hyperflowNfs": "",
        "openflow": "openflow-prd",
    }
    assert {key: value for key, value in outputs["namespaces"].items() if key in known} == known
    assert set(outputs["namespaces"]) == set(NAMESPACE_KEYS), "every system's keys, added ones too"
