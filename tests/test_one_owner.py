"""One owner per decision: a component's defaults, selectors, ports and data UID are the component's
public names; the stack's config models take the defaults from them, and stack code reaches no
component's private (underscore) names."""

import ast
import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from component_args import MINIMAL
from flow_platform.aws import ecr_mirror, efs_shared_volume, image_copy_job
from flow_platform.flink import FlinkCluster, flink_cluster, flink_operator
from flow_platform.flink.flink_cluster import deployment_spec
from flow_platform.hyperflow import hyperflow_engine, hyperflow_jobs, nfs_server, redis
from flow_platform.k8s import Quantity
from flow_platform.partek import flexlm_server, flow_headnode, flow_workers
from flow_platform_stacks.config import aws as aws_config
from flow_platform_stacks.errors import KeyProblem
from flow_platform_stacks.systems.flink import config as flink_config
from flow_platform_stacks.systems.hyperflow import config as hyperflow_config
from flow_platform_stacks.systems.partek import config as partek_config
from pydantic import BaseModel, ValidationError

ROOT = Path(__file__).resolve().parents[1]


def _default(model: type[BaseModel], field: str) -> Any:
    value = model.model_fields[field].get_default(call_default_factory=True)
    return str(value) if isinstance(value, Quantity) else value


# (config model, field, the component's constant)
PAIRS: list[tuple[type[BaseModel], str, Any]] = [
    (flink_config.FlinkClusterConfig, "slots", flink_cluster.DEFAULT_SLOTS),
    (flink_config.FlinkClusterConfig, "ha", flink_cluster.DEFAULT_HA),
    (flink_config.FlinkClusterConfig, "checkpoint_interval", flink_cluster.DEFAULT_CHECKPOINT_INTERVAL),
    (flink_config.FlinkClusterConfig, "checkpoints_retained", flink_cluster.DEFAULT_CHECKPOINTS_RETAINED),
    (flink_config.FlinkClusterConfig, "restart_strategy", flink_cluster.DEFAULT_RESTART_STRATEGY),
    (flink_config.FlinkClusterConfig, "service_account", flink_cluster.DEFAULT_SERVICE_ACCOUNT),
    (flink_config.JobConfig, "upgrade_mode", flink_cluster.DEFAULT_UPGRADE_MODE),
    (flink_config.JobConfig, "state", flink_cluster.DEFAULT_STATE),
    (flink_config.OperatorConfig, "webhook", flink_operator.DEFAULT_WEBHOOK),
    (flink_config.OperatorConfig, "artifact_schemes", list(flink_operator.DEFAULT_ARTIFACT_SCHEMES)),
    (hyperflow_config.StorageConfig, "size", nfs_server.DEFAULT_SIZE),
    (hyperflow_config.EngineConfig, "cpu", hyperflow_engine.DEFAULT_CPU),
    (hyperflow_config.EngineConfig, "memory", hyperflow_engine.DEFAULT_MEMORY),
    (hyperflow_config.EngineConfig, "server_mode", hyperflow_engine.DEFAULT_SERVER_MODE),
    (hyperflow_config.WorkerConfig, "cpu", hyperflow_engine.DEFAULT_JOB_CPU),
    (hyperflow_config.WorkerConfig, "memory", hyperflow_engine.DEFAULT_JOB_MEMORY),
    (hyperflow_config.WorkerConfig, "ttl_seconds_after_finished", hyperflow_engine.DEFAULT_JOB_TTL_SECONDS),
    (hyperflow_config.RedisConfig, "cpu", redis.DEFAULT_CPU),
    (hyperflow_config.RedisConfig, "memory", redis.DEFAULT_MEMORY),
    (hyperflow_config.JobsConfig, "ttl_seconds_after_finished", hyperflow_jobs.DEFAULT_TTL_SECONDS),
    (hyperflow_config.JobsConfig, "backoff_limit", hyperflow_jobs.DEFAULT_BACKOFF_LIMIT),
    (partek_config.LicenseConfig, "service_name", flexlm_server.DEFAULT_SERVICE_NAME),
    (partek_config.HeadnodeConfig, "worker_memory_mb", flow_headnode.DEFAULT_WORKER_MEMORY_MB),
    (partek_config.HeadnodeConfig, "worker_cores", flow_headnode.DEFAULT_WORKER_CORES),
    (partek_config.WorkersConfig, "port", flow_headnode.WORKER_PORT),
    (
        partek_config.WorkersConfig,
        "termination_grace_period_seconds",
        flow_workers.DEFAULT_TERMINATION_GRACE_SECONDS,
    ),
    (aws_config.EfsConfig, "throughput_mode", efs_shared_volume.DEFAULT_THROUGHPUT_MODE),
    (aws_config.CopyJobConfig, "schedule", image_copy_job.DEFAULT_SCHEDULE),
    (aws_config.EcrConfig, "keep_tagged", ecr_mirror.DEFAULT_KEEP_TAGGED),
    (aws_config.EcrConfig, "untagged_days", ecr_mirror.DEFAULT_UNTAGGED_DAYS),
]


@pytest.mark.parametrize(("model", "field", "owner"), PAIRS, ids=[f"{m.__name__}.{f}" for m, f, _ in PAIRS])
def test_an_unset_key_means_the_components_default(model: type[BaseModel], field: str, owner: Any) -> None:
    assert _default(model, field) == owner


def _dev_flink_cluster() -> dict[str, Any]:
    config = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    cluster: dict[str, Any] = copy.deepcopy(config["flow-platform:flink"]["cluster"])
    return cluster


def test_flink_task_slots_unset_are_the_components_one_slot() -> None:
    """The defect: the config said 2 where the component said 1; now both say the component's."""
    cluster = _dev_flink_cluster()
    del cluster["slots"]
    cluster["sessionJobs"][0]["parallelism"] = 1
    parsed = flink_config.FlinkClusterConfig.model_validate(cluster)
    assert parsed.slots == flink_cluster.DEFAULT_SLOTS == 1
    spec = deployment_spec(cast(Any, MINIMAL[FlinkCluster]), "flink-data")
    assert spec["flinkConfiguration"]["taskmanager.numberOfTaskSlots"] == str(parsed.slots)


def test_flink_parallelism_is_checked_against_the_components_default_slots() -> None:
    cluster = _dev_flink_cluster()
    del cluster["slots"]  # one TaskManager, parallelism 2: one slot is not enough
    with pytest.raises((ValidationError, KeyProblem), match=r"above the 1 slots available"):
        flink_config.FlinkClusterConfig.model_validate(cluster)


# --- stack code reaches only public component names -------------------------------------------


def _private_uses(source: str) -> list[str]:
    """``flow_platform`` names starting with ``_`` that this source imports or reads."""
    found: list[str] = []
    component_aliases: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "flow_platform":
            if any(part.startswith("_") for part in node.module.split(".")):
                found.append(node.module)
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append(f"{node.module}.{alias.name}")
                component_aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "flow_platform":
                    if any(part.startswith("_") for part in alias.name.split(".")):
                        found.append(alias.name)
                    component_aliases.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in component_aliases
        ):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def test_the_scan_finds_each_way_of_reaching_a_private_name() -> None:
    assert _private_uses("from flow_platform.partek.flow_headnode import _one_license_rule")
    assert _private_uses("from flow_platform.k8s import _private as p")
    assert _private_uses("import flow_platform.k8s._impl")
    assert _private_uses("from flow_platform.flink import flink_cluster as c\nx = c._unique_session_jobs")
    assert _private_uses("import flow_platform\nx = flow_platform._secret")
    assert not _private_uses("from flow_platform.partek import headnode_selector\nfrom ._x import y")
    assert not _private_uses("from flow_platform.flink import flink_cluster as c\nx = c.DEFAULT_SLOTS")


def test_stack_code_uses_no_private_component_name() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "stacks").rglob("*.py"))
        for name in _private_uses(path.read_text())
    ]
    assert not found, "expose it in the component (a public constant, function or attribute):\n" + "\n".join(
        found
    )


def test_the_exposed_selectors_select_the_pods_the_components_run(stack: Callable[[str], Any]) -> None:
    """The stack wires the headnode and license server to each other by these selectors."""
    prd = stack("prd")
    for selector, name in (
        (flow_headnode.headnode_selector("prd"), "flowheadnode"),
        (flexlm_server.license_server_selector("prd"), "flexlmserver"),
    ):
        (workload,) = [
            o for o in prd.objects() if o["metadata"]["name"] == name and "template" in o.get("spec", {})
        ]
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), name
        assert workload["spec"]["selector"]["matchLabels"] == selector
