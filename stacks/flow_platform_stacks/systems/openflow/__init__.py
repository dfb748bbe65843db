"""openflow (Apache Spark): jobs submitted with spark-submit in cluster mode into each env's namespace."""

from collections.abc import Mapping
from typing import Any, ClassVar

from flow_platform.k8s import Quantity

from ...operators import OperatorInstall
from ..base import PolicyException, SideNamespace, StackContext, System, SystemResult, Workload
from . import deploy as _deploy
from . import operator as _operator
from . import policy as _policy
from .config import OpenflowConfig


def _pod(cores: int, memory_mib: int) -> tuple[Quantity, Quantity]:
    return Quantity.parse(str(cores)), Quantity.parse(f"{memory_mib}Mi")


DESCRIPTION = "openflow (Apache Spark 4.0.1) jobs by spark-submit; omit or set enabled=false to skip."
"""Pulumi.yaml's description of the ``openflow`` key."""


class Openflow(System[OpenflowConfig]):
    name = "openflow"
    title = (
        "openflow (Apache Spark 4.0.1): spark-submit cluster-mode environment, driver/executor RBAC,"
        " pod templates"
    )
    description = DESCRIPTION
    nfr_monitoring: ClassVar[bool] = True
    """Pod restarts (failed pods: Spark never restarts one) and ulimits are measured here (#17 NFRs)."""
    config = OpenflowConfig
    outputs: ClassVar[Mapping[str, Any]] = {
        "namespace": "",
        "driverServiceAccount": "",
        "executorServiceAccount": "",
        "sparkDefaultsConfigMap": "",
        "podTemplatesConfigMap": "",
        "sparkOperatorNamespace": "",
        "applications": [],
    }
    side_namespace_keys: ClassVar[Mapping[str, str]] = {"spark-operator": "sparkOperator"}

    def images(self, block: OpenflowConfig) -> dict[str, str]:
        images = {_deploy.IMAGE: block.image.ref()}
        if block.spark_operator is not None:
            images[_operator.OPERATOR_IMAGE] = block.spark_operator.image.ref()
        return images

    def side_namespaces(self, block: OpenflowConfig, env: str) -> list[SideNamespace]:
        if block.spark_operator is None:
            return []
        return [
            SideNamespace(
                "spark-operator", _operator.operator_namespace_of(block, env), ("sparkOperator", "namespace")
            )
        ]

    def operators(self, block: OpenflowConfig, namespace: str) -> list[OperatorInstall]:
        return _operator.operator_install(block, namespace)

    def policy_exceptions(self, block: OpenflowConfig, env: str, namespace: str) -> list[PolicyException]:
        return _policy.policy_exceptions(block, env, namespace)

    def workloads(self, block: OpenflowConfig) -> list[Workload]:
        """The largest jobs, as Spark sizes their pods (request = limit = heap + overhead)."""
        apps = block.concurrent_applications
        driver_cpu, driver_memory = _pod(block.driver.cores, block.driver.pod_memory_mib)
        executor_cpu, executor_memory = _pod(block.executor.cores, block.executor.pod_memory_mib)
        return [
            Workload(
                "drivers",
                ("driver",),
                apps,
                driver_cpu,
                driver_memory,
                driver_memory,
                cpu_key="cores",
                memory_limit_key="memory",
            ),
            Workload(
                "executors (at most)",
                ("executor",),
                apps * block.executor.max_executors,
                executor_cpu,
                executor_memory,
                executor_memory,
                cpu_key="cores",
                memory_limit_key="memory",
            ),
        ]

    def claims(self, block: OpenflowConfig) -> int:
        return block.claims()

    def deploy(self, ctx: StackContext, block: OpenflowConfig, namespace: str) -> SystemResult:
        return SystemResult(_deploy.deploy(ctx, block, namespace))


SYSTEM = Openflow()
