"""Partek Flow: headnode, elastic workers, ingress and its FlexLM license server."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

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
from .config import PartekConfig

if TYPE_CHECKING:
    from ...config.stack import StackConfig

CLAIMS = 1
"""The /home/flow claim (created, or ``home.claimName``)."""


class Partek(System[PartekConfig]):
    name = "partek"
    title = "Partek Flow headnode, elastic workers, ingress, FlexLM license server"
    description = (
        "Partek Flow (headnode, workers, FlexLM); omit or set enabled=false to skip."
        " Holds the namespace guardrails."
    )
    config = PartekConfig
    outputs: ClassVar[Mapping[str, Any]] = {
        "namespace": "",
        "url": "",
        "licenseAddress": "",
        "headnodeService": "",
        "homeClaim": "",
    }
    services = ("partekFlowUi", "flexlm")
    side_namespace_keys: ClassVar[Mapping[str, str]] = {"partek-license": "partekLicense"}
    uses_efs = True

    def images(self, block: PartekConfig) -> dict[str, str]:
        return block.images()

    def policy_exceptions(self, block: PartekConfig, env: str, namespace: str) -> list[PolicyException]:
        return _policy.policy_exceptions(block, env, namespace)

    def efs_need(self, block: PartekConfig) -> EfsNeed | None:
        if block.home.efs:
            return EfsNeed(("home", "efs"), "needs aws.efs (and aws: accountId, region, cluster)")
        return None

    def side_namespaces(self, block: PartekConfig, env: str) -> list[SideNamespace]:
        if block.license.mode != "flexlm":
            return []
        return [SideNamespace("partek-license", block.license_namespace(env), ("license", "namespace"))]

    def workloads(self, block: PartekConfig) -> list[Workload]:
        head = block.headnode
        loads = [
            Workload("headnode", ("headnode",), 1, head.cpu, head.memory, head.memory_limit or head.memory)
        ]
        if block.workers is not None and block.workers.replicas > 0:
            w = block.workers
            loads.append(
                Workload("workers", ("workers",), w.replicas, w.cpu, w.memory, w.memory_limit or w.memory)
            )
        return loads

    def claims(self, block: PartekConfig) -> int:
        return CLAIMS

    def check(self, block: PartekConfig, stack: "StackConfig") -> None:
        from ...errors import KeyProblem

        aws = stack.aws
        problem = block.pull_auth_problem(aws is not None and aws.mirror() is not None)
        if problem is not None:
            raise KeyProblem(["partek", "imagePullAuth"], problem)

    def deploy(self, ctx: StackContext, block: PartekConfig, namespace: str) -> SystemResult:
        result: dict[str, Any] = _deploy.deploy(ctx, block, namespace)
        services = {"partekFlowUi": service_dns(result["headnodeService"], namespace)}
        if block.license.mode == "flexlm":
            services["flexlm"] = service_dns(block.license.service_name, block.license_namespace(ctx.env))
        return SystemResult(result, services)


SYSTEM = Partek()
