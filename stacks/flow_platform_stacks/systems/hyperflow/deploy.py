"""Compose HyperFlow for one environment: /work_dir storage, redis, the engine, one-shot jobs."""

from typing import Any

import pulumi
from flow_platform.hyperflow import (
    HYPERFLOW_UID,
    HyperflowEngine,
    HyperflowJobs,
    HyperflowRedis,
    HyperflowRedisArgs,
    InClusterNfsServer,
)

from ...namespaces import namespace_sizes
from ..base import StackContext
from .config import ON_DEMAND_JOBS, HyperflowConfig

CLAIM = "work-dir"
NFS_EXCEPTION = (
    "the in-cluster NFS server (NFS-Ganesha, userspace, not privileged) runs as root with "
    "DAC_READ_SEARCH, beyond PSA baseline; it runs alone here, and only where EFS is not available"
)
NFS_GUARDRAILS = namespace_sizes(
    request=("100m", "256Mi"),
    limit="512Mi",
    maximum=("1", "1Gi"),
    quota=("1", "1Gi", "1Gi"),
    pods=2,
    claims=1,
)


def deploy(ctx: StackContext, block: HyperflowConfig, namespace: str) -> dict[str, Any]:
    """Register HyperFlow into ``namespace``; returns the stack outputs for it."""
    env, opts, foundation = ctx.env, ctx.opts, ctx.foundation
    storage = block.storage
    if storage.mode == "efs":
        ctx.shared_volume(
            "hyperflow-work-dir", "hyperflow", namespace, CLAIM, str(storage.size), uid=HYPERFLOW_UID
        )
    else:
        assert storage.storage_class is not None
        nfs_namespace = nfs_namespace_of(block, env)
        guardrails = ctx.guarded_namespace(
            "hyperflow-nfs",
            nfs_namespace,
            "hyperflow",
            NFS_GUARDRAILS,
            privileged_because=NFS_EXCEPTION,
        )
        InClusterNfsServer(
            "hyperflow-nfs-server",
            {
                "namespace": nfs_namespace,
                "env": env,
                "image": foundation.image("nfs-server"),
                "storage_class": storage.storage_class,
                "size": str(storage.size),
                "client_namespace": namespace,
                "claim_name": CLAIM,
                "node_cidrs": storage.node_cidrs,
                "protect": ctx.protect,
            },
            foundation.after_images(
                ctx.merged(guardrails),
                "nfs-server",
            ),
        )

    redis_args: HyperflowRedisArgs = {
        "namespace": namespace,
        "env": env,
        "image": foundation.image("redis"),
        "cpu": str(block.redis.cpu),
        "memory": str(block.redis.memory),
        "password": pulumi.Output.secret(block.redis.password.get_secret_value()),
        "protect": ctx.protect,
    }
    if block.redis.persistence is not None:
        redis_args["persistence_size"] = str(block.redis.persistence.size)
        redis_args["storage_class"] = block.redis.persistence.storage_class
    redis = HyperflowRedis("hyperflow-redis", redis_args, foundation.after_images(opts, "redis"))
    worker = block.worker
    engine = HyperflowEngine(
        "hyperflow-engine",
        {
            "namespace": namespace,
            "env": env,
            "image": foundation.image("hyperflow"),
            "worker_image": foundation.image("hyperflow-worker"),
            "cpu": str(block.engine.cpu),
            "memory": str(block.engine.memory),
            "job_cpu": str(worker.cpu),
            "job_memory": str(worker.memory),
            "job_memory_limit": str(worker.memory_limit or worker.memory),
            "job_ttl_seconds": worker.ttl_seconds_after_finished,
            "work_dir_claim": CLAIM,
            "redis_secret": redis.secret_name,
            "server_mode": block.engine.server_mode,
            "api_server_cidrs": ctx.api_server.cidrs,
            "api_server_port": ctx.api_server.port,
        },
        foundation.after_images(opts, "hyperflow", "hyperflow-worker"),
    )
    jobs = block.jobs.enabled()
    if jobs:
        HyperflowJobs(
            "hyperflow-jobs",
            {
                "namespace": namespace,
                "env": env,
                "jobs": [
                    {
                        "name": name,
                        "image": foundation.image(f"hyperflow-{name}"),
                        "command": job.command,
                        "on_demand": name in ON_DEMAND_JOBS,
                    }
                    for name, job in jobs.items()
                ],
                "work_dir_claim": CLAIM,
                "ttl_seconds": block.jobs.ttl_seconds_after_finished,
                "backoff_limit": block.jobs.backoff_limit,
            },
            foundation.after_images(opts, *(f"hyperflow-{name}" for name in jobs)),
        )
    return {"namespace": namespace, "workDirClaim": CLAIM, "engineServiceAccount": engine.service_account}


def nfs_namespace_of(block: HyperflowConfig, env: str) -> str:
    """The in-cluster NFS server's namespace: configured, else ``hyperflow-nfs-<env>``."""
    return block.storage.namespace or f"hyperflow-nfs-{env}"
