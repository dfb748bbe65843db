"""The ``flow-platform:hyperflow`` block: storage, engine, redis, job pods and one-shot jobs."""

from typing import Literal, Self

from flow_platform.k8s import Quantity
from pydantic import Field, model_validator

from ..errors import KeyProblem
from .base import Cpu, Memory, NamespaceName, ObjectName, Storage, Strict, SystemConfig, check_cidrs
from .partek import ImageConfig


class StorageConfig(Strict):
    """Where /work_dir lives: EFS (no privileged pod) or an in-cluster NFS server."""

    mode: Literal["efs", "in-cluster"]
    size: Storage = Field(default_factory=lambda: Quantity.parse("100Gi"))
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
        in_cluster = ("storage_class", "node_cidrs", "server_image")
        for field in in_cluster:
            value = getattr(self, field)
            present = value is not None and value != []
            key = {"storage_class": "storageClass", "node_cidrs": "nodeCidrs", "server_image": "serverImage"}[
                field
            ]
            if self.mode == "in-cluster" and not present:
                raise KeyProblem([key], "required when mode is 'in-cluster'")
            if self.mode == "efs" and present:
                raise KeyProblem([key], "only applies to mode 'in-cluster', not 'efs'")
        try:
            check_cidrs(self.node_cidrs)
        except KeyProblem as problem:
            raise KeyProblem(["nodeCidrs", *problem.subpath], problem.message) from None
        return self


class EngineConfig(Strict):
    image: ImageConfig
    cpu: Cpu = Field(default_factory=lambda: Quantity.parse("500m"))
    memory: Memory = Field(default_factory=lambda: Quantity.parse("1Gi"))
    server_mode: bool = False


class RedisConfig(Strict):
    image: ImageConfig
    cpu: Cpu = Field(default_factory=lambda: Quantity.parse("100m"))
    memory: Memory = Field(default_factory=lambda: Quantity.parse("256Mi"))


class WorkerConfig(Strict):
    """The job pods the engine starts, one per workflow task."""

    image: ImageConfig
    cpu: Cpu = Field(default_factory=lambda: Quantity.parse("500m"))
    memory: Memory = Field(default_factory=lambda: Quantity.parse("512Mi"))
    memory_limit: Memory | None = None
    ttl_seconds_after_finished: int = Field(default=600, ge=0)
    backoff_limit: int = Field(default=0, ge=0, le=10)

    @model_validator(mode="after")
    def _limit(self) -> Self:
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
    ttl_seconds_after_finished: int = Field(default=3600, ge=0)
    backoff_limit: int = Field(default=1, ge=0, le=10)

    def enabled(self) -> dict[str, OneShotJobConfig]:
        jobs = {"data-staging": self.data_staging, "log-parser": self.log_parser, "viz-trace": self.viz_trace}
        return {name: job for name, job in jobs.items() if job is not None}


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
