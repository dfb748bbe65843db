"""Compose Flink for one environment: its own operator and Flink cluster; the cluster's CRDs in
the one stack per cluster that manages them."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from flow_platform.aws import ImageRef
from flow_platform.flink import FlinkCluster, FlinkClusterArgs, FlinkOperator, FlinkOperatorArgs, JobSpec

from ... import PROJECT
from ...errors import ConfigError, Problem
from ...namespaces import namespace_sizes
from ...stackfile import other_stacks
from ..base import StackContext
from .config import FlinkConfig, JobConfig

CLAIM = "flink-data"
OPERATOR_GUARDRAILS = namespace_sizes(
    request=("250m", "512Mi"), limit="1Gi", maximum=("2", "4Gi"), quota=("4", "8Gi", "8Gi"), pods=6, claims=0
)


@dataclass(frozen=True)
class Peer:
    """A Flink stack on a cluster."""

    stack: str
    manages_crds: bool
    namespace: str


def _flink_peer(name: str, config: dict[str, Any]) -> tuple[str, Peer] | None:
    """Another stack's operator cluster and its place on it; None for a stack without Flink."""
    block = config.get(f"{PROJECT}:flink")
    if not isinstance(block, dict) or block.get("enabled") is False:
        return None
    operator = block.get("operator") or {}
    env = config.get(f"{PROJECT}:environment", name)
    namespace = str(block.get("namespace") or f"flink-{env}")
    return str(operator["cluster"]), Peer(name, operator.get("manageCrds") is True, namespace)


def _stack_peers(project_dir: Path, stack: str, own: FlinkConfig, namespace: str) -> dict[str, list[Peer]]:
    """Every stack of the project by operator cluster, this stack from its validated config."""
    peers: dict[str, list[Peer]] = {}
    peers.setdefault(own.operator.cluster, []).append(Peer(stack, own.operator.manage_crds, namespace))
    for cluster, others in other_stacks(
        project_dir, stack, "the Flink operator plan", _flink_peer, "no operator.cluster"
    ).items():
        peers.setdefault(cluster, []).extend(others)
    return peers


def operator_plan(project_dir: Path, stack: str, flink: FlinkConfig, namespace: str) -> list[str]:
    """The namespaces this stack's operator watches: its own Flink namespace.

    Every Flink stack runs its own operator, so no stack writes into another's namespace and
    destroying one environment leaves the others' Flink running. The CRDs are cluster-wide:
    exactly one stack per cluster manages them (``manageCrds``); none or two is a config error
    naming the stacks.
    """
    cluster = flink.operator.cluster
    peers = _stack_peers(project_dir, stack, flink, namespace)[cluster]
    managers = sorted(p.stack for p in peers if p.manages_crds)
    path = ("flink", "operator", "manageCrds")
    if len(managers) > 1 and stack not in managers:
        # not this stack's conflict: the managers' own renders fail
        pulumi.log.warn(
            f"stacks {', '.join(managers)} all manage the Flink CRDs of cluster {cluster!r};"
            " exactly one of them may"
        )
    elif len(managers) > 1:
        raise ConfigError(
            stack,
            [
                Problem(
                    path,
                    f"stacks {', '.join(managers)} all manage the Flink CRDs of cluster"
                    f" {cluster!r}: the stacks of one cluster must agree, so set manageCrds: true in"
                    " exactly one of them (stack files of this project are read for this only)",
                )
            ],
        )
    if not managers:
        raise ConfigError(
            stack,
            [
                Problem(
                    path,
                    f"no stack manages the Flink CRDs of cluster {cluster!r}:"
                    " set manageCrds: true in exactly one stack of that cluster",
                )
            ],
        )
    return [namespace]


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


def deploy(ctx: StackContext, block: FlinkConfig, namespace: str) -> dict[str, Any]:
    """Register the operator (installer only) and the Flink cluster; returns the stack outputs."""
    env, opts, foundation = ctx.env, ctx.opts, ctx.foundation
    api = ctx.api_server
    watch_namespaces = list(ctx.operators["flink"])
    operator = block.operator
    operator_namespace = operator_namespace_of(block, env)
    guardrails = ctx.guarded_namespace("flink-operator", operator_namespace, "flink", OPERATOR_GUARDRAILS)
    image = ImageRef.parse(foundation.image("flink-operator"))
    operator_args: FlinkOperatorArgs = {
        "namespace": operator_namespace,
        "env": env,
        "image_repository": f"{image.registry}/{image.path}",
        "image_tag": image.tag or "",
        "watch_namespaces": watch_namespaces,
        "manage_crds": operator.manage_crds,
        "protect": ctx.protect,
        "webhook": operator.webhook,
        "artifact_schemes": list(operator.artifact_schemes),
        "artifact_cidrs": list(operator.artifact_cidrs),
        "api_server_cidrs": api.cidrs,
        "api_server_port": api.port,
    }
    if operator.webhook_keystore_password is not None:
        operator_args["webhook_keystore_password"] = pulumi.Output.secret(
            operator.webhook_keystore_password.get_secret_value()
        )
    flink_operator = FlinkOperator(
        "flink-operator-install",
        operator_args,
        foundation.after_images(
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[guardrails])),
            "flink-operator",
        ),
    )
    ctx.shared_volume("flink-data", "flink", namespace, CLAIM, str(block.cluster.storage_size))
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
        "operator_namespace": operator_namespace,
        "api_server_cidrs": api.cidrs,
        "api_server_port": api.port,
    }
    if cluster.job is not None:
        args["job"] = _job(cluster.job)
    if cluster.ingress_host:
        args["ingress_host"] = cluster.ingress_host
        args["ingress_class"] = ctx.ingress.class_name
        args["ingress_controller_namespace"] = ctx.ingress.namespace
        if cluster.tls_secret:
            args["tls_secret"] = cluster.tls_secret
        if cluster.cluster_issuer:
            args["cluster_issuer"] = cluster.cluster_issuer
    # the CRs carry the operator's finalizers: created after and deleted before the operator
    flink = FlinkCluster(
        "flink-cluster",
        args,
        foundation.after_images(
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[flink_operator])),
            "flink",
        ),
    )
    return {
        "namespace": namespace,
        "deployment": flink.deployment_name,
        "operatorInstalled": True,  # every Flink stack runs its own operator
    }


def operator_namespace_of(block: FlinkConfig, env: str) -> str:
    """The operator's namespace: configured, else ``flink-operator-<env>`` (one per environment)."""
    return block.operator.namespace or f"flink-operator-{env}"
