"""Compose Flink for one environment: its own operator and Flink cluster; the cluster's CRDs in
the one stack per cluster that manages them."""

from typing import Any

import pulumi
from flow_platform.aws import ImageRef
from flow_platform.flink import FlinkCluster, FlinkClusterArgs, FlinkOperator, FlinkOperatorArgs, JobSpec

from ...namespaces import namespace_sizes
from ...operators import OperatorInstall
from ..base import StackContext
from .config import FlinkConfig, JobConfig

CLAIM = "flink-data"
OPERATOR_GUARDRAILS = namespace_sizes(
    request=("250m", "512Mi"), limit="1Gi", maximum=("2", "4Gi"), quota=("4", "8Gi", "8Gi"), pods=6, claims=0
)


def operator_install(block: FlinkConfig, namespace: str) -> OperatorInstall:
    """This stack's Flink operator: on its cluster, watching its own Flink namespace only; the
    CRDs by the one stack of the cluster with ``manageCrds`` (:mod:`...operators` checks that)."""
    operator = block.operator
    return OperatorInstall(
        operator="flink",
        title="Flink",
        cluster=operator.cluster,
        owns_crds=operator.manage_crds,
        owner_key=("flink", "operator", "manageCrds"),
        watched=(namespace,),
    )


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
    env, foundation = ctx.env, ctx.foundation
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
            ctx.merged(guardrails),
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
            ctx.merged(flink_operator),
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
