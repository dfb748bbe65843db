"""Compose Flink for one environment; the operator only in the stack that installs it for its cluster."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from flow_platform.aws import ImageRef
from flow_platform.flink import FlinkCluster, FlinkClusterArgs, FlinkOperator, JobSpec

from . import PROJECT
from .aws_foundation import Foundation, shared_volume
from .config import FlinkConfig, StackConfig
from .config.flink import JobConfig
from .errors import ConfigError, Problem
from .namespaces import guarded_namespace, namespace_sizes
from .stackfile import stack_file_config

CLAIM = "flink-data"
OPERATOR_GUARDRAILS = namespace_sizes(
    request=("250m", "512Mi"), limit="1Gi", maximum=("2", "4Gi"), quota=("4", "8Gi", "8Gi"), pods=6, claims=0
)


@dataclass(frozen=True)
class Peer:
    """A stack that uses a cluster's operator."""

    stack: str
    install: bool
    namespace: str


def _stack_peers(project_dir: Path, stack: str, cfg: StackConfig) -> dict[str, list[Peer]]:
    """Every stack of the project by operator cluster, this stack from its validated config."""
    peers: dict[str, list[Peer]] = {}
    own = cfg.system("flink")
    if isinstance(own, FlinkConfig):
        namespace = cfg.namespace_of("flink") or ""
        peers.setdefault(own.operator.cluster, []).append(Peer(stack, own.operator.install, namespace))
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        name = path.name.split(".")[1]
        if name == stack:
            continue
        # another stack's file is read only for the one-operator-per-cluster agreement: a file
        # that cannot be read is that stack's problem, reported as a warning here
        try:
            config = stack_file_config(path)
            block = config.get(f"{PROJECT}:flink")
            if not isinstance(block, dict) or block.get("enabled") is False:
                continue
            operator = block.get("operator") or {}
            env = config.get(f"{PROJECT}:environment", name)
            namespace = str(block.get("namespace") or f"flink-{env}")
            peer = Peer(name, operator.get("install") is True, namespace)
            cluster = str(operator["cluster"])
        except (ConfigError, AttributeError, KeyError, TypeError) as error:
            reason = (
                str(error).splitlines()[-1].strip()
                if isinstance(error, ConfigError)
                else "no operator.cluster"
            )
            pulumi.log.warn(f"{path.name} is ignored for the Flink operator plan: {reason}")
            continue
        peers.setdefault(cluster, []).append(peer)
    return peers


def operator_plan(project_dir: Path, stack: str, cfg: StackConfig) -> list[str]:
    """The namespaces this stack's operator watches (when it installs it).

    Exactly one stack per cluster installs the operator; none or two is a config error naming them.
    """
    flink = cfg.system("flink")
    if not isinstance(flink, FlinkConfig):
        return []
    cluster = flink.operator.cluster
    peers = _stack_peers(project_dir, stack, cfg)[cluster]
    installers = sorted(p.stack for p in peers if p.install)
    path = ("flink", "operator", "install")
    if len(installers) > 1 and stack not in installers:
        # not this stack's conflict: the installers' own renders fail
        pulumi.log.warn(
            f"stacks {', '.join(installers)} all install the Flink operator on cluster {cluster!r};"
            " exactly one of them may"
        )
    elif len(installers) > 1:
        raise ConfigError(
            stack,
            [
                Problem(
                    path,
                    f"stacks {', '.join(installers)} all install the operator on cluster"
                    f" {cluster!r}: the stacks of one cluster must agree, so set install: true in"
                    " exactly one of them (stack files of this project are read for this only)",
                )
            ],
        )
    if not installers:
        raise ConfigError(
            stack,
            [
                Problem(
                    path,
                    f"no stack installs the operator on cluster {cluster!r}:"
                    " set install: true in exactly one stack of that cluster",
                )
            ],
        )
    return sorted(p.namespace for p in peers) if flink.operator.install else []


def _job(job: JobConfig) -> JobSpec:
    spec: JobSpec = {
        "jar_uri": job.jar_uri,
        "parallelism": job.parallelism,
        "upgrade_mode": job.upgrade_mode,
        "state": job.state,
    }
    if job.entry_class:
        spec["entry_class"] = job.entry_class
    if job.args:
        spec["args"] = job.args
    return spec


def deploy(
    cfg: StackConfig,
    block: FlinkConfig,
    namespace: str,
    opts: pulumi.ResourceOptions,
    foundation: Foundation,
    watch_namespaces: list[str],
) -> dict[str, Any]:
    """Register the operator (installer only) and the Flink cluster; returns the stack outputs."""
    env = cfg.environment
    api = cfg.kubernetes.api_server
    operator = block.operator
    if operator.install:
        guardrails = guarded_namespace(
            "flink-operator", cfg, operator.namespace, "flink", OPERATOR_GUARDRAILS, opts
        )
        image = ImageRef.parse(foundation.image("flink-operator"))
        FlinkOperator(
            "flink-operator-install",
            {
                "namespace": operator.namespace,
                "env": env,
                "image_repository": f"{image.registry}/{image.path}",
                "image_tag": image.tag or "",
                "watch_namespaces": watch_namespaces,
                "webhook": operator.webhook,
                "api_server_cidrs": api.cidrs,
                "api_server_port": api.port,
            },
            foundation.after_images(
                pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[guardrails])),
                "flink-operator",
            ),
        )
    shared_volume(
        "flink-data", cfg, foundation, "flink", namespace, CLAIM, str(block.cluster.storage_size), opts
    )
    cluster = block.cluster
    args: FlinkClusterArgs = {
        "namespace": namespace,
        "env": env,
        "name": cluster.name,
        "image": foundation.image("flink"),
        "flink_version": cluster.flink_version,
        "service_account": cluster.service_account,
        "claim": CLAIM,
        "job_manager": {
            "replicas": cluster.job_manager.replicas,
            "cpu": cluster.job_manager.cpu,
            "memory": str(cluster.job_manager.memory),
        },
        "task_manager": {
            "replicas": cluster.task_manager.replicas,
            "cpu": cluster.task_manager.cpu,
            "memory": str(cluster.task_manager.memory),
        },
        "slots": cluster.slots,
        "ha": cluster.ha,
        "checkpoint_interval": cluster.checkpoint_interval,
        "checkpoints_retained": cluster.checkpoints_retained,
        "restart_strategy": cluster.restart_strategy,
        "flink_configuration": cluster.flink_configuration,
        "session_jobs": [{"name": j.name, "job": _job(j)} for j in cluster.session_jobs],
        "savepoint_snapshot": cluster.savepoint_snapshot,
        "operator_namespace": operator.namespace,
        "api_server_cidrs": api.cidrs,
        "api_server_port": api.port,
    }
    if cluster.job is not None:
        args["job"] = _job(cluster.job)
    if cluster.ingress_host:
        args["ingress_host"] = cluster.ingress_host
        if cluster.tls_secret:
            args["tls_secret"] = cluster.tls_secret
        if cluster.cluster_issuer:
            args["cluster_issuer"] = cluster.cluster_issuer
    flink = FlinkCluster("flink-cluster", args, foundation.after_images(opts, "flink"))
    return {
        "namespace": namespace,
        "deployment": flink.deployment_name,
        "operatorInstalled": operator.install,
    }
