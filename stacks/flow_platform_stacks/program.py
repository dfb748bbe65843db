"""The stack program: validate config, build the providers, compose the components."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from . import aws_foundation, monitoring
from .config import ClusterFacts
from .config.stack import BY_NAME, StackConfig
from .errors import ConfigError
from .loader import load
from .namespaces import guarded_namespace, record_namespaces
from .outputs import EXTRA_NAMESPACES, empty_outputs, export_all, system_outputs
from .systems import StackContext
from .systems.base import IngressController


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
    project = project_dir or find_project_dir()
    operators: dict[str, dict[str, Sequence[str]]] = {}
    for name in cfg.enabled_systems():
        block, namespace = cfg.system(name), cfg.namespace_of(name)
        assert block is not None and namespace is not None
        operators[name] = dict(BY_NAME[name].preflight(block, namespace, stack, project))
    registry = aws_foundation.registry_plan(project, stack, cfg)
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
    kube = cfg.kubernetes
    controller = kube.ingress_controller
    guards: list[pulumi.Resource] = []
    for name in cfg.enabled_systems():
        system, block, namespace = BY_NAME[name], cfg.system(name), cfg.namespace_of(name)
        assert block is not None and namespace is not None
        # the system's own namespace: Pod Security "restricted", sized by its limits and quota
        guardrails = guarded_namespace(
            name,
            namespace,
            name,
            {
                "default_request": block.limits.default_request.as_dict(),
                "default_limit": block.limits.default_limit.as_dict(),
                "max_limit": block.limits.max.as_dict(),
                "quota": block.quota.hard(),
            },
            opts,
            env=cfg.environment,
            protect=cfg.protect,
            pod_security_version=kube.pod_security_version,
        )
        namespaces[name] = guardrails.namespace_name
        guards.append(guardrails)
        ctx = StackContext(
            env=cfg.environment,
            protect=cfg.protect,
            pod_security_version=kube.pod_security_version,
            api_server=kube.api_server,
            ingress=IngressController(controller.class_name, controller.namespace, controller.pod_labels),
            foundation=foundation,
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[guardrails])),
            operators=operators[name],
        )
        result = system.deploy(ctx, block, namespace)
        exports[name] = system_outputs(name, result.outputs)
        unknown = sorted(set(result.services) - set(system.services))
        assert not unknown, f"{name} services {unknown} are not in its System.services"
        services.update(result.services)
    monitoring.deploy(cfg, opts, guards)  # the NFR rules, once the measured namespaces exist
    for resource_name, key in EXTRA_NAMESPACES.items():
        if resource_name in created:
            namespaces[key] = created[resource_name]
    for system_name, volume in foundation.volumes.items():
        exports["efs"][system_name] = {
            "fileSystemId": volume.file_system_id,
            "accessPointId": volume.access_point_id,
        }
    if foundation.mirror is not None:
        exports["ecr"] = {"repositoryUrls": foundation.mirror.repository_urls}
        exports["imageUris"] = foundation.mirror.image_uris
    exports["environment"] = cfg.environment
    export_all(exports)


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
