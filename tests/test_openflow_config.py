"""The ``openflow`` block: every key's mistakes stop the run naming the stack, key and what is allowed,
before anything is registered; sizes are checked the way Spark 4.0.1 sizes the pods."""

from collections.abc import Callable
from typing import Any

import pytest
import yaml
from conftest import Stack

Config = dict[str, Any]


def _set(path: str, value: Any) -> Callable[[Config], None]:
    def mutate(config: Config) -> None:
        node = config["flow-platform:openflow"]
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value

    return mutate


def _del(path: str) -> Callable[[Config], None]:
    def mutate(config: Config) -> None:
        node = config["flow-platform:openflow"]
        *parents, last = path.split(".")
        for part in parents:
            node = node[part]
        del node[last]

    return mutate


def _both(*mutations: Callable[[Config], None]) -> Callable[[Config], None]:
    def mutate(config: Config) -> None:
        for mutation in mutations:
            mutation(config)

    return mutate


K = "flow-platform:openflow"
CASES: list[tuple[str, str, Callable[[Config], None], list[str]]] = [
    ("unknown key", "dev", _set("executer", {}), [f"{K}.executer", "did you mean 'executor'?"]),
    (
        "another Spark",
        "dev",
        _set("image.tag", "3.5.1"),
        [f"{K}.image.tag", "'3.5.1' is another Spark", "verified against Spark 4.0.1"],
    ),
    ("image tag latest", "dev", _set("image.tag", "latest"), [f"{K}.image.tag", "'latest' is not a version"]),
    (
        "heap not in whole MiB",
        "dev",
        _set("executor.memory", "2G"),
        [f"{K}.executor.memory", "not a whole number of MiB"],
    ),
    (
        "zero overhead factor",
        "dev",
        _set("driver.overheadFactor", 0),
        [f"{K}.driver.overheadFactor", "greater than 0"],
    ),
    (
        "huge overhead factor",
        "dev",
        _set("executor.overheadFactor", 40),
        [f"{K}.executor.overheadFactor", "10"],
    ),
    ("zero cores", "dev", _set("driver.cores", 0), [f"{K}.driver.cores", "greater than or equal to 1"]),
    (
        "cores above limits.max.cpu",
        "dev",
        _set("executor.cores", 3),
        [f"{K}.executor.cores", "3 is above limits.max.cpu (2)"],
    ),
    (
        "executor pod above limits.max.memory",
        "dev",
        _set("executor.memory", "4Gi"),
        [
            f"{K}.executor.memory",
            "the executor pod needs 4505Mi = memory 4Gi + overhead 409Mi (max(4Gi x 0.1, 384Mi))",
            "above limits.max.memory (4Gi)",
        ],
    ),
    (
        "instances and dynamic allocation",
        "dev",
        _set("executor.dynamicAllocation", {"maxExecutors": 2}),
        [f"{K}.executor.instances", "set exactly one of executor.instances"],
    ),
    (
        "neither instances nor dynamic allocation",
        "dev",
        _del("executor.instances"),
        [f"{K}.executor.instances", "set exactly one of executor.instances"],
    ),
    (
        "min above max",
        "tst",
        _set("executor.dynamicAllocation.minExecutors", 5),
        [f"{K}.executor.dynamicAllocation.minExecutors", "5 is above maxExecutors (4)"],
    ),
    (
        "initial outside the bounds",
        "tst",
        _set("executor.dynamicAllocation.initialExecutors", 9),
        [
            f"{K}.executor.dynamicAllocation.initialExecutors",
            "not between minExecutors (0) and maxExecutors (4)",
        ],
    ),
    (
        "max executors beyond the quota",
        "tst",
        _set("executor.dynamicAllocation.maxExecutors", 6),
        [
            f"{K}.quota.requestsCpu",
            "12 is below what the largest jobs need (13",
            "6 executors (executor.dynamicAllocation.maxExecutors)",
        ],
    ),
    (
        "memory quota below the largest job",
        "dev",
        _set("quota.requestsMemory", "6Gi"),
        [f"{K}.quota.requestsMemory", "6Gi is below what the largest jobs need (6272Mi", "driver pod 1408Mi"],
    ),
    (
        "limits quota below the largest jobs at once",
        "uat",
        _set("concurrentApplications", 3),
        [f"{K}.quota.requestsCpu", "72 is below", "3 x (driver + 8 executors", "concurrentApplications"],
    ),
    (
        "zero concurrent applications",
        "uat",
        _set("concurrentApplications", 0),
        [f"{K}.concurrentApplications"],
    ),
    (
        "pods quota",
        "dev",
        _set("quota.pods", 2),
        [f"{K}.quota.pods", "2 is below the 3 pods of the largest jobs (driver + 2 executors"],
    ),
    (
        "claims quota with on-demand claims",
        "uat",
        _set("quota.persistentVolumeClaims", 10),
        [f"{K}.quota.persistentVolumeClaims", "10 is below the 16 on-demand claims"],
    ),
    (
        "bad storage class",
        "uat",
        _set("onDemandClaims.storageClass", "GP3"),
        [f"{K}.onDemandClaims.storageClass"],
    ),
    ("claim size", "uat", _set("onDemandClaims.size", "lots"), [f"{K}.onDemandClaims.size", "quantity"]),
    (
        "local dir medium",
        "dev",
        _set("localDirs.medium", "ssd"),
        [f"{K}.localDirs.medium", "'disk' or 'memory'"],
    ),
    (
        "tmpfs local dir larger than the overhead",
        "dev",
        _both(_set("localDirs.medium", "memory"), _set("localDirs.size", "1Gi")),
        [
            f"{K}.localDirs.size",
            "a memory-backed local dir counts in the pod's memory",
            "above the driver's overhead (384Mi",
            "raise driver.overheadFactor or use localDirs.medium disk",
        ],
    ),
    ("empty submitter group", "dev", _set("submitterGroups", [""]), [f"{K}.submitterGroups[0]", "is empty"]),
    (
        "data endpoint open to everything",
        "dev",
        _set("dataEndpoints", [{"name": "s3", "cidrs": ["0.0.0.0/0"], "ports": [443]}]),
        [f"{K}.dataEndpoints[0].cidrs[0]", "name the exact range"],
    ),
    (
        "data endpoint port",
        "dev",
        _set("dataEndpoints", [{"name": "s3", "cidrs": ["10.1.0.0/16"], "ports": [0]}]),
        [f"{K}.dataEndpoints[0].ports[0]", "not between 1 and 65535"],
    ),
    (
        "ui clients namespace",
        "dev",
        _set("uiClients", {"namespace": "Ingress", "podLabels": {"a": "b"}}),
        [f"{K}.uiClients.namespace"],
    ),
    (
        "ui clients labels",
        "dev",
        _set("uiClients", {"namespace": "ingress-nginx", "podLabels": {"app": "not a label"}}),
        [f"{K}.uiClients.podLabels", "is not a label value"],
    ),
    ("namespace", "dev", _set("namespace", "kube-system"), [f"{K}.namespace", "system namespace"]),
]


@pytest.mark.parametrize(("title", "env", "mutate", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_openflow_config_is_a_clear_error_before_anything_is_registered(
    bad_config: Any, title: str, env: str, mutate: Callable[[Config], None], expected: list[str]
) -> None:
    result = bad_config(env, mutate)
    assert result.message.startswith(f"invalid configuration for stack '{env}'")
    for fragment in expected:
        assert fragment in result.message, f"{title}: {fragment!r} not in:\n{result.message}"
    assert result.registered == [], f"{title}: resources were registered before the error"


def test_a_disabled_block_needs_nothing_else(stack: Any) -> None:
    from conftest import raw_stack_yaml, run_config

    config = raw_stack_yaml("dev")["config"]
    config[K] = {"enabled": False}
    registrations = run_config("dev", config)
    assert not [r for r in registrations if "openflow" in r.name]


@pytest.mark.parametrize(
    ("env", "executors", "claims"),
    [("dev", "2", False), ("tst", "dyn 0..4", False), ("uat", "dyn 1..8", True), ("prd", "dyn 2..16", True)],
)
def test_each_env_binds_spark_to_its_namespace_with_growing_sizes(
    stack: Any, env: str, executors: str, claims: bool
) -> None:
    rendered: Stack = stack(env)
    namespace = f"openflow-{env}"
    [defaults] = [
        o
        for o in rendered.objects("ConfigMap", namespace)
        if o["metadata"]["name"] == "openflow-spark-defaults"
    ]
    props = dict(
        line.split(" ", 1)
        for line in defaults["data"]["spark-defaults.conf"].splitlines()
        if not line.startswith("#")
    )
    assert props["spark.kubernetes.namespace"] == namespace
    assert props["spark.kubernetes.authenticate.driver.serviceAccountName"] == "openflow-driver"
    # the image comes through the env's ECR mirror where there is one, like every other image
    image = props["spark.kubernetes.container.image"]
    assert image.endswith("apache/spark:4.0.1")
    if env != "dev":
        assert ".dkr.ecr." in image
    if executors.startswith("dyn"):
        low, high = executors.split()[1].split("..")
        assert props["spark.dynamicAllocation.shuffleTracking.enabled"] == "true"
        assert (
            props["spark.dynamicAllocation.minExecutors"],
            props["spark.dynamicAllocation.maxExecutors"],
        ) == (low, high)
    else:
        assert props["spark.executor.instances"] == executors
    assert any(key.endswith("options.claimName") for key in props) == claims
    [templates] = [
        o
        for o in rendered.objects("ConfigMap", namespace)
        if o["metadata"]["name"] == "openflow-pod-templates"
    ]
    executor = yaml.safe_load(templates["data"]["executor-pod-template.yaml"])
    assert executor["spec"]["containers"][0]["image"] == image
    assert rendered.stack_outputs["openflow"]["driverServiceAccount"] == "openflow-driver"
    assert rendered.stack_outputs["namespaces"]["openflow"] == namespace


def test_sizes_grow_from_dev_to_prd(stack: Any) -> None:
    def largest(env: str) -> int:
        [quota_object] = stack(env).objects("ResourceQuota", f"openflow-{env}")
        quota = quota_object["spec"]["hard"]
        return int(quota["requests.cpu"])

    sizes = [largest(env) for env in ("dev", "tst", "uat", "prd")]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
