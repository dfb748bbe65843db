"""Compose openflow for one environment: the spark-submit environment in its namespace."""

from typing import Any

from flow_platform.openflow import LocalDirMedium, OpenflowSubmitEnvironment, OpenflowSubmitEnvironmentArgs

from ..base import StackContext
from .config import OpenflowConfig
from .operator import deploy_operator_and_applications

IMAGE = "openflow-spark"
"""The Spark image's logical name in the ECR mirror."""


def submit_environment_args(
    ctx: StackContext, block: OpenflowConfig, namespace: str
) -> OpenflowSubmitEnvironmentArgs:
    """The component's args from the block: sizes as the config checked them against the quota."""
    driver, executor = block.driver, block.executor
    args: OpenflowSubmitEnvironmentArgs = {
        "namespace": namespace,
        "env": ctx.env,
        "image": ctx.foundation.image(IMAGE),
        "driver_cores": driver.cores,
        "driver_memory": str(driver.memory),
        "driver_memory_overhead_factor": driver.overhead_factor,
        "executor_cores": executor.cores,
        "executor_memory": str(executor.memory),
        "executor_memory_overhead_factor": executor.overhead_factor,
        "local_dir_medium": LocalDirMedium(block.local_dirs.medium),
        "local_dir_size": str(block.local_dirs.size),
        "api_server_cidrs": list(ctx.api_server.cidrs),
        "api_server_port": ctx.api_server.port,
    }
    dynamic = executor.dynamic_allocation
    if dynamic is not None:
        bounds: Any = {"min_executors": dynamic.min_executors, "max_executors": dynamic.max_executors}
        if dynamic.initial_executors is not None:
            bounds["initial_executors"] = dynamic.initial_executors
        args["dynamic_allocation"] = bounds
    else:
        assert executor.instances is not None
        args["executor_instances"] = executor.instances
    if block.on_demand_claims is not None:
        args["on_demand_claim_storage_class"] = block.on_demand_claims.storage_class
        args["on_demand_claim_size"] = str(block.on_demand_claims.size)
    if block.ui_clients is not None:
        args["ui_clients"] = {
            "namespace": block.ui_clients.namespace,
            "labels": dict(block.ui_clients.pod_labels),
        }
    if block.data_endpoints:
        args["data_endpoints"] = [
            {"name": e.name, "cidrs": list(e.cidrs), "ports": list(e.ports)} for e in block.data_endpoints
        ]
    if block.submitter_groups:
        args["submitter_groups"] = list(block.submitter_groups)
    return args


def deploy(ctx: StackContext, block: OpenflowConfig, namespace: str) -> dict[str, Any]:
    """Register openflow's spark-submit environment into ``namespace``; returns its outputs."""
    environment = OpenflowSubmitEnvironment(
        "openflow-submit",
        submit_environment_args(ctx, block, namespace),
        ctx.foundation.after_images(ctx.opts, IMAGE),
    )
    return {
        "namespace": namespace,
        "driverServiceAccount": environment.driver_service_account,
        "executorServiceAccount": environment.executor_service_account,
        "sparkDefaultsConfigMap": environment.spark_defaults_config_map,
        "podTemplatesConfigMap": environment.pod_templates_config_map,
        # the spark-operator and its applications, which run as this environment's accounts
        **deploy_operator_and_applications(
            ctx,
            block,
            namespace,
            ctx.foundation.image(IMAGE),
            (environment.driver_service_account, environment.executor_service_account),
            [environment],
        ),
    }
