"""Apache Flink through the Flink Kubernetes Operator: a FlinkDeployment, session jobs, HA, checkpoints."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

import pulumi
from flow_platform.k8s import Quantity

from ...operators import OperatorInstall
from ..base import (
    EfsNeed,
    PolicyException,
    SideNamespace,
    StackContext,
    System,
    SystemResult,
    Workload,
    service_dns,
)
from . import deploy as _deploy
from . import policy as _policy
from .config import FlinkConfig


class Flink(System[FlinkConfig]):
    name = "flink"
    title = (
        "Apache Flink through the Flink Kubernetes Operator (FlinkDeployment, session jobs, HA, checkpoints)"
    )
    description = "Apache Flink through the Flink Kubernetes Operator; omit or set enabled=false to skip."
    config = FlinkConfig
    outputs: ClassVar[Mapping[str, Any]] = {
        "namespace": "",
        "deployment": "",
        "operatorInstalled": False,
        "restUrl": "",
    }
    services = ("flinkRest",)
    side_namespace_keys: ClassVar[Mapping[str, str]] = {"flink-operator": "flinkOperator"}
    uses_efs = True

    def images(self, block: FlinkConfig) -> dict[str, str]:
        return block.images()

    def policy_exceptions(self, block: FlinkConfig, env: str, namespace: str) -> list[PolicyException]:
        return _policy.policy_exceptions(block, env, namespace)

    def efs_need(self, block: FlinkConfig) -> EfsNeed | None:
        # HA metadata, checkpoints and savepoints live on the flink-data EFS claim
        return EfsNeed(
            (),
            "needs aws.efs (and aws: accountId, region, cluster): Flink keeps its HA metadata,"
            " checkpoints and savepoints on an EFS volume; set aws.efs or disable flink (enabled: false)",
        )

    def side_namespaces(self, block: FlinkConfig, env: str) -> list[SideNamespace]:
        return [
            SideNamespace(
                "flink-operator", _deploy.operator_namespace_of(block, env), ("operator", "namespace")
            )
        ]

    def workloads(self, block: FlinkConfig) -> list[Workload]:
        """The operator sets request = limit for JobManager and TaskManager memory (limit factor 1.0)."""
        loads = []
        for key, process in (
            ("jobManager", block.cluster.job_manager),
            ("taskManager", block.cluster.task_manager),
        ):
            cpu = Quantity.parse(f"{Decimal(str(process.cpu)).normalize():f}")
            loads.append(
                Workload(
                    key,
                    ("cluster", key),
                    process.replicas,
                    cpu,
                    process.memory,
                    process.memory,
                    memory_limit_key="memory",
                )
            )
        return loads

    def claims(self, block: FlinkConfig) -> int:
        return 1  # flink-data

    def operators(self, block: FlinkConfig, namespace: str) -> list[OperatorInstall]:
        return [_deploy.operator_install(block, namespace)]

    def deploy(self, ctx: StackContext, block: FlinkConfig, namespace: str) -> SystemResult:
        result: dict[str, Any] = _deploy.deploy(ctx, block, namespace)
        host = block.cluster.ingress_host
        # the operator names the JobManager's REST (and web UI) Service <FlinkDeployment>-rest
        rest = service_dns(pulumi.Output.concat(result["deployment"], "-rest"), namespace)
        return SystemResult({**result, "restUrl": f"https://{host}/" if host else ""}, {"flinkRest": rest})


SYSTEM = Flink()
