"""The stack program: validate config, build the providers, compose the components."""

from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
from flow_platform.k8s import NamespaceGuardrails, PodSecurityLevel

from . import aws_foundation, flink, hyperflow, partek
from .config import ClusterFacts, FlinkConfig, HyperflowConfig, PartekConfig, StackConfig
from .errors import ConfigError
from .loader import load


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
        providers.append(aws_foundation.aws_provider(cfg.aws, cfg.environment))
    opts = pulumi.ResourceOptions(providers=providers)
    foundation = aws_foundation.deploy(cfg, facts, opts, registry)
    namespaces: dict[str, pulumi.Output[str]] = {}
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
        system_opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[guardrails]))
        if isinstance(block, PartekConfig):
            pulumi.export("partek", partek.deploy(cfg, block, namespace, system_opts, foundation))
        if isinstance(block, FlinkConfig):
            pulumi.export(
                "flink", flink.deploy(cfg, block, namespace, system_opts, foundation, watch_namespaces)
            )
        if isinstance(block, HyperflowConfig):
            pulumi.export("hyperflow", hyperflow.deploy(cfg, block, namespace, system_opts, foundation))
    pulumi.export("environment", cfg.environment)
    pulumi.export("namespaces", namespaces)


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
