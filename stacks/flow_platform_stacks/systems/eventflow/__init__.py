"""EventFlow (Spotfire/TIBCO Streaming): one application's nodes as a StatefulSet, and its monitor."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from flow_platform.eventflow import discovery_name_problem

from ..base import PolicyException, StackContext, System, SystemResult, Workload, service_dns
from . import deploy as _deploy
from .config import EventFlowConfig

if TYPE_CHECKING:
    from ...config.stack import StackConfig


NODE_TOKEN_REASON = (
    "each EventFlow node creates, updates and deletes its own discovery Service and reads pods through the"
    " API server (namespaced Role: services and read-only pods, nothing else)"
)
MONITOR_TOKEN_REASON = (
    "the EventFlow cluster monitor is a Streaming node: it publishes its own discovery Service and reads pods"
    " through the API server (same namespaced Role)"
)


class EventFlow(System[EventFlowConfig]):
    name = "eventflow"
    title = (
        "EventFlow (Spotfire Streaming) application nodes as a StatefulSet, least-privilege discovery RBAC,"
        " cluster monitor"
    )
    description = "EventFlow streaming nodes of one application; omit or set enabled=false to skip."
    config = EventFlowConfig
    outputs: ClassVar[Mapping[str, Any]] = {
        "namespace": "",
        "statefulSet": "",
        "serviceAccount": "",
        "discoveryServices": [],
        "monitorUrl": "",
    }
    services = ("eventflowNodes", "eventflowMonitor")
    nfr_monitoring: ClassVar[bool] = True
    """Its namespace is covered by the openflow NFR rules and ``flow-platform nfr`` (#17)."""

    def images(self, block: EventFlowConfig) -> dict[str, str]:
        return block.images()

    def workloads(self, block: EventFlowConfig) -> list[Workload]:
        memory = block.total_memory()
        loads = [Workload("EventFlow node", (), block.replicas, block.cpu, memory, memory)]
        if block.monitor is not None:
            monitor = block.monitor.total_memory()
            loads.append(Workload("cluster monitor", ("monitor",), 1, block.monitor.cpu, monitor, monitor))
        return loads

    def check(self, block: EventFlowConfig, stack: "StackConfig") -> None:
        from ...errors import KeyProblem

        namespace = block.namespace or f"{self.name}-{stack.environment}"
        problem = discovery_name_problem(block.app_name, namespace, block.replicas)
        if problem:
            raise KeyProblem([self.name, "appName"], problem)

    def policy_exceptions(self, block: EventFlowConfig, env: str, namespace: str) -> list[PolicyException]:
        """The API token: nodes (and the monitor, itself a node) publish their discovery Services."""
        exceptions = [
            PolicyException(
                "service-account-token",
                namespace,
                block.app_name,
                ("service-account-token",),
                NODE_TOKEN_REASON,
            )
        ]
        if block.monitor is not None:
            exceptions.append(
                PolicyException(
                    "service-account-token",
                    namespace,
                    "clustermonitor",
                    ("service-account-token",),
                    MONITOR_TOKEN_REASON,
                )
            )
        return exceptions

    def deploy(self, ctx: StackContext, block: EventFlowConfig, namespace: str) -> SystemResult:
        outputs = _deploy.deploy(ctx, block, namespace)
        services = {"eventflowNodes": service_dns(block.app_name, namespace)}
        if block.monitor is not None:
            services["eventflowMonitor"] = service_dns("clustermonitor", namespace)
        return SystemResult(outputs, services)


SYSTEM = EventFlow()
