"""The stack program: validate config, build the providers, compose the components."""

from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from flow_platform.k8s import NamespaceGuardrails, PodSecurityLevel

from . import aws_foundation, flink, hyperflow, monitoring, partek
from .config import ClusterFacts, FlinkConfig, HyperflowConfig, PartekConfig, StackConfig
from .errors import ConfigError
from .loader import load
from .namespaces import record_namespaces
from .outputs import CLUSTER_DOMAIN, EXTRA_NAMESPACES, empty_outputs, export_all, system_outputs


def kubernetes_provider(cfg: StackConfig) -> k8s.Provider:
    """The one Kubernetes provider of the stack; components get it through ``providers=``."""
    kube = cfg.kubernetes
    kubeconfig = (
        pulumi.Output.secret(kube.kubeconfig.get_secret_value()) if kube.kubeconfig is not None else None
    )
    return k8s.Provider(
        "k8s",
        context=kube.context,
        kubeconfig=kubeconfig,
        enable_server_side_apply=True,
        # Never fall back to a default namespace: every object names its own.
        namespace=None,
    )


def find_project_dir() -> Path:
    """The directory holding Pulumi.yaml: the working directory's, else this source tree's."""
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for directory in (start, *start.parents):
            if (directory / "Pulumi.yaml").exists() and (directory / "stacks").is_dir():
                return directory
    return Path.cwd()


async def build(cfg: StackConfig, stack: str, project_dir: Path | None = None) -> None:
    """Register every resource of the stack; ``cfg`` is already validated.

    The cluster's facts are resolved first (reading the cluster stack when configured), so a
    missing fact fails before anything but that stack reference is registered.
    """
    watch_namespaces = flink.operator_plan(project_dir or find_project_dir(), stack, cfg)
    registry = aws_foundation.registry_plan(project_dir or find_project_dir(), stack, cfg)
    facts: ClusterFacts | None = None
    if cfg.aws is not None:
        facts = await aws_foundation.cluster_facts(stack, cfg.aws)
    providers: list[pulumi.ProviderResource] = [kubernetes_provider(cfg)]
    if cfg.aws is not None:
        aws_provider = aws_foundation.aws_provider(cfg.aws, cfg.environment)
        providers.append(aws_provider)
        aws_foundation.check_cluster(stack, cfg, facts, aws_provider)
    opts = pulumi.ResourceOptions(providers=providers)
    created = record_namespaces()
    foundation = aws_foundation.deploy(cfg, facts, opts, registry)
    exports = empty_outputs()
    namespaces: dict[str, Any] = exports["namespaces"]
    services: dict[str, Any] = exports["services"]
    guards: list[pulumi.Resource] = []
    for system in cfg.enabled_systems():
        block = cfg.system(system)
        assert block is not None
        namespace = cfg.namespace_of(system)
        assert namespace is not None
        guardrails = NamespaceGuardrails(
            system,
            {
                "namespace": namespace,
                "env": cfg.environment,
                "system": system,
                "pod_security": PodSecurityLevel.RESTRICTED,
                "pod_security_version": cfg.kubernetes.pod_security_version,
                "default_request": block.limits.default_request.as_dict(),
                "default_limit": block.limits.default_limit.as_dict(),
                "max_limit": block.limits.max.as_dict(),
                "quota": block.quota.hard(),
                "protect": cfg.protect,
            },
            opts,
        )
        namespaces[system] = guardrails.namespace_name
        guards.append(guardrails)
        system_opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[guardrails]))
        if isinstance(block, PartekConfig):
            result = partek.deploy(cfg, block, namespace, system_opts, foundation)
            exports["partek"] = system_outputs("partek", result)
            services["partekFlowUi"] = _dns(result["headnodeService"], namespace)
            if block.license.mode == "flexlm":
                services["flexlm"] = _dns(
                    block.license.service_name, block.license_namespace(cfg.environment)
                )
        if isinstance(block, FlinkConfig):
            result = flink.deploy(cfg, block, namespace, system_opts, foundation, watch_namespaces)
            host = block.cluster.ingress_host
            exports["flink"] = system_outputs(
                "flink", {**result, "restUrl": f"https://{host}/" if host else ""}
            )
            # the operator names the JobManager's REST (and web UI) Service <FlinkDeployment>-rest
            services["flinkRest"] = _dns(pulumi.Output.concat(result["deployment"], "-rest"), namespace)
        if isinstance(block, HyperflowConfig):
            result = hyperflow.deploy(cfg, block, namespace, system_opts, foundation)
            exports["hyperflow"] = system_outputs("hyperflow", result)
            services["redis"] = _dns(HYPERFLOW_SERVICES["redis"], namespace)
    monitoring.deploy(cfg, opts, guards)  # the NFR rules, once the measured namespaces exist
    for resource_name, key in EXTRA_NAMESPACES.items():
        if resource_name in created:
            namespaces[key] = created[resource_name]
    if namespaces.get("hyperflowNfs"):
        services["nfsServer"] = _dns(HYPERFLOW_SERVICES["nfs"], namespaces["hyperflowNfs"])
    for system, volume in foundation.volumes.items():
        exports["efs"][system] = {
            "fileSystemId": volume.file_system_id,
            "accessPointId": volume.access_point_id,
        }
    if foundation.mirror is not None:
        exports["ecr"] = {"repositoryUrls": foundation.mirror.repository_urls}
        exports["imageUris"] = foundation.mirror.image_uris
    exports["environment"] = cfg.environment
    export_all(exports)


HYPERFLOW_SERVICES = {"redis": "redis", "nfs": "nfs-server"}
"""Service names of HyperflowRedis and InClusterNfsServer (the engine has none: see the README)."""


def _dns(service: Any, namespace: Any) -> pulumi.Output[str]:
    return pulumi.Output.concat(service, ".", namespace, f".svc.{CLUSTER_DOMAIN}")


def main() -> None:
    """Entry point for ``pulumi up``: a config error stops the run before anything is registered."""
    try:
        cfg = load()
    except ConfigError as error:
        # RunError is printed without a Python traceback by the Pulumi language host.
        raise pulumi.RunError(str(error)) from None

    async def program() -> None:
        try:
            await build(cfg, pulumi.get_stack())
        except ConfigError as error:
            raise pulumi.RunError(str(error)) from None

    pulumi.run(program)
