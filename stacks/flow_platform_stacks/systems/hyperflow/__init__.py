"""HyperFlow: the workflow engine, redis, shared /work_dir storage, job pods and one-shot jobs."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from flow_platform.k8s import Quantity

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
from .config import HyperflowConfig

if TYPE_CHECKING:
    from ...config.stack import StackConfig

ONE_SHOT_JOB = (Quantity.parse("250m"), Quantity.parse("512Mi"))
"""HyperflowJobs' container size (flow_platform.hyperflow.HyperflowJobs)."""
SERVICES = {"redis": "redis", "nfs": "nfs-server"}
"""Service names of HyperflowRedis and InClusterNfsServer (the engine has none: see the README)."""


class Hyperflow(System[HyperflowConfig]):
    name = "hyperflow"
    title = "HyperFlow workflow engine, redis, shared NFS/EFS storage, job template, one-shot jobs"
    description = "HyperFlow workflow engine with its shared storage; omit or set enabled=false to skip."
    config = HyperflowConfig
    outputs: ClassVar[Mapping[str, Any]] = {"namespace": "", "workDirClaim": "", "engineServiceAccount": ""}
    services = ("redis", "nfsServer")
    """No HyperFlow server: v1.5.7 listens on 127.0.0.1 only, so there is no Service for it."""
    side_namespace_keys: ClassVar[Mapping[str, str]] = {"hyperflow-nfs": "hyperflowNfs"}
    uses_efs = True

    def images(self, block: HyperflowConfig) -> dict[str, str]:
        return block.images()

    def policy_exceptions(self, block: HyperflowConfig, env: str, namespace: str) -> list[PolicyException]:
        return _policy.policy_exceptions(block, env, namespace)

    def efs_need(self, block: HyperflowConfig) -> EfsNeed | None:
        if block.storage.mode == "efs":
            return EfsNeed(("storage", "mode"), "'efs' needs aws.efs; use 'in-cluster' without AWS")
        return None

    def side_namespaces(self, block: HyperflowConfig, env: str) -> list[SideNamespace]:
        if block.storage.mode != "in-cluster":
            return []
        namespace = _deploy.nfs_namespace_of(block, env)
        return [SideNamespace("hyperflow-nfs", namespace, ("storage", "namespace"))]

    def workloads(self, block: HyperflowConfig) -> list[Workload]:
        worker = block.worker
        loads = [
            Workload("engine", ("engine",), 1, block.engine.cpu, block.engine.memory, block.engine.memory),
            Workload("redis", ("redis",), 1, block.redis.cpu, block.redis.memory, block.redis.memory),
            Workload(
                "job pods (at least one)",
                ("worker",),
                1,
                worker.cpu,
                worker.memory,
                worker.memory_limit or worker.memory,
            ),
        ]
        for name in block.jobs.enabled():
            field = {"data-staging": "dataStaging", "log-parser": "logParser", "viz-trace": "vizTrace"}[name]
            cpu, memory = ONE_SHOT_JOB
            loads.append(Workload(f"job {name}", ("jobs", field), 1, cpu, memory, memory))
        return loads

    def claims(self, block: HyperflowConfig) -> int:
        # /work_dir, and redis's own data claim
        return 1 + (block.redis.persistence is not None)

    def check(self, block: HyperflowConfig, stack: "StackConfig") -> None:
        from ...errors import KeyProblem

        if block.storage.mode == "in-cluster" and stack.environment == "prd":
            raise KeyProblem(
                ["hyperflow", "storage", "mode"],
                "'in-cluster' is not allowed in prd: its NFS server runs as root with added capabilities "
                "and a single replica; use 'efs'",
            )

    def deploy(self, ctx: StackContext, block: HyperflowConfig, namespace: str) -> SystemResult:
        result: dict[str, Any] = _deploy.deploy(ctx, block, namespace)
        services = {"redis": service_dns(SERVICES["redis"], namespace)}
        if block.storage.mode == "in-cluster":
            services["nfsServer"] = service_dns(SERVICES["nfs"], _deploy.nfs_namespace_of(block, ctx.env))
        return SystemResult(result, services)


SYSTEM = Hyperflow()
