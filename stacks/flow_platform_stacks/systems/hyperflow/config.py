"""The ``flow-platform:hyperflow`` block: storage, engine, redis, job pods and one-shot jobs."""

import re
from typing import Literal, Self

from flow_platform.hyperflow import hyperflow_engine as engine_defaults
from flow_platform.hyperflow import hyperflow_jobs as jobs_defaults
from flow_platform.hyperflow import nfs_server as nfs_defaults
from flow_platform.hyperflow import redis as redis_defaults
from flow_platform.k8s import Quantity
from pydantic import Field, SecretStr, model_validator

from ...config.base import (
    Cpu,
    ImageConfig,
    Memory,
    NamespaceName,
    ObjectName,
    Storage,
    Strict,
    SystemConfig,
    check_cidrs,
)
from ...config.rules import check_mode_fields
from ...errors import SECRET_MASK, KeyProblem

STORAGE_FIELDS: dict[str, tuple[str, ...]] = {
    "in-cluster": ("storage_class", "node_cidrs", "server_image"),
    "efs": (),
}
"""The fields each storage mode needs (and no other mode may set)."""


class StorageConfig(Strict):
    """Where /work_dir lives: EFS (no privileged pod) or an in-cluster NFS server."""

    mode: Literal["efs", "in-cluster"]
    size: Storage = Field(default_factory=lambda: Quantity.parse(nfs_defaults.DEFAULT_SIZE))
    storage_class: ObjectName | None = None
    """in-cluster: class of the NFS server's backing claim."""
    node_cidrs: list[str] = Field(default_factory=list)
    """in-cluster: the nodes' addresses (the kubelet mounts NFS)."""
    server_image: ImageConfig | None = None
    """in-cluster: the NFS server image."""
    namespace: NamespaceName | None = None
    """in-cluster: the NFS server's own namespace (default ``hyperflow-nfs-<env>``)."""

    @model_validator(mode="after")
    def _per_mode(self) -> Self:
        check_mode_fields(self, self.mode, STORAGE_FIELDS)
        try:
            check_cidrs(self.node_cidrs)
        except KeyProblem as problem:
            raise KeyProblem(["nodeCidrs", *problem.subpath], problem.message) from None
        return self


class EngineConfig(Strict):
    image: ImageConfig
    cpu: Cpu = Field(default_factory=lambda: Quantity.parse(engine_defaults.DEFAULT_CPU))
    memory: Memory = Field(default_factory=lambda: Quantity.parse(engine_defaults.DEFAULT_MEMORY))
    server_mode: bool = engine_defaults.DEFAULT_SERVER_MODE


REDIS_PASSWORD = re.compile(r"[A-Za-z0-9._~-]{16,}")
"""URL-safe (it travels in ``redis://:<password>@host``) and long enough not to be guessed."""


def redis_password_problem(password: str) -> str | None:
    """Why a redis password is unusable, or None."""
    if REDIS_PASSWORD.fullmatch(password):
        return None
    return (
        "at least 16 characters from A-Z a-z 0-9 . _ ~ - (it is part of the redis URL); "
        'e.g. pulumi config set --secret --path hyperflow.redis.password "$(openssl rand -hex 24)"'
    )


class RedisPersistenceConfig(Strict):
    """An append-only file on a claim of its own: running workflows survive a redis restart."""

    size: Storage
    storage_class: ObjectName


class RedisConfig(Strict):
    image: ImageConfig
    cpu: Cpu = Field(default_factory=lambda: Quantity.parse(redis_defaults.DEFAULT_CPU))
    memory: Memory = Field(default_factory=lambda: Quantity.parse(redis_defaults.DEFAULT_MEMORY))
    """Request and limit; redis's ``maxmemory`` is three quarters of it (policy ``noeviction``)."""
    password: SecretStr
    """A secret: ``pulumi config set --secret --path hyperflow.redis.password ...``."""
    persistence: RedisPersistenceConfig | None = None

    @model_validator(mode="after")
    def _password(self) -> Self:
        password = self.password.get_secret_value()
        # encrypted values cannot be read offline (render); the real CLI passes the plain text
        if password != SECRET_MASK:
            problem = redis_password_problem(password)
            if problem:
                raise KeyProblem(["password"], problem)
        return self


class WorkerConfig(Strict):
    """The job pods the engine starts, one per workflow task."""

    image: ImageConfig
    cpu: Cpu = Field(default_factory=lambda: Quantity.parse(engine_defaults.DEFAULT_JOB_CPU))
    memory: Memory = Field(default_factory=lambda: Quantity.parse(engine_defaults.DEFAULT_JOB_MEMORY))
    memory_limit: Memory | None = None
    ttl_seconds_after_finished: int = Field(default=engine_defaults.DEFAULT_JOB_TTL_SECONDS, ge=0)
    backoff_limit: int = 0
    """Must stay 0: engine v1.5.7 cannot retry a failed task (see the README)."""

    @model_validator(mode="after")
    def _limit(self) -> Self:
        if self.backoff_limit != 0:
            raise KeyProblem(
                ["backoffLimit"],
                "must be 0 with HyperFlow v1.5.7: its task executor reports a failure to redis before "
                "Kubernetes could retry the pod, and the engine either stops the workflow before its own "
                "retry runs or, without the stop switch, waits forever once retries run out; "
                "rerun the workflow instead",
            )
        if self.memory_limit is not None and self.memory_limit < self.memory:
            raise KeyProblem(
                ["memoryLimit"], f"{self.memory_limit} is below the request memory ({self.memory})"
            )
        return self


class OneShotJobConfig(Strict):
    image: ImageConfig
    command: list[str] = Field(min_length=1)


class JobsConfig(Strict):
    """Optional one-shot Jobs."""

    data_staging: OneShotJobConfig | None = None
    log_parser: OneShotJobConfig | None = None
    viz_trace: OneShotJobConfig | None = None
    ttl_seconds_after_finished: int = Field(default=jobs_defaults.DEFAULT_TTL_SECONDS, ge=0)
    backoff_limit: int = Field(default=jobs_defaults.DEFAULT_BACKOFF_LIMIT, ge=0, le=10)

    def enabled(self) -> dict[str, OneShotJobConfig]:
        jobs = {"data-staging": self.data_staging, "log-parser": self.log_parser, "viz-trace": self.viz_trace}
        return {name: job for name, job in jobs.items() if job is not None}


ON_DEMAND_JOBS = frozenset({"log-parser", "viz-trace"})
"""Jobs that need a finished workflow's logs: never run by ``pulumi up``."""


class HyperflowConfig(SystemConfig):
    """HyperFlow: storage, engine, redis, worker job pods, one-shot jobs."""

    storage: StorageConfig
    engine: EngineConfig
    redis: RedisConfig
    worker: WorkerConfig
    jobs: JobsConfig = Field(default_factory=JobsConfig)

    def images(self) -> dict[str, str]:
        images = {
            "hyperflow": self.engine.image.ref(),
            "redis": self.redis.image.ref(),
            "hyperflow-worker": self.worker.image.ref(),
        }
        for name, job in self.jobs.enabled().items():
            images[f"hyperflow-{name}"] = job.image.ref()
        if self.storage.server_image is not None:
            images["nfs-server"] = self.storage.server_image.ref()
        return images
