"""The ``flow-platform:openflow`` block: the Spark image, driver and executor sizes, local dirs.

Every size is checked here against the namespace's LimitRange and ResourceQuota the way Spark 4.0.1
will size the pods (heap + ``max(heap x overheadFactor, 384Mi)``, request = limit), for the most
executors a job may have, so a job that fits the config is never refused by the API server halfway
through a run. On-demand claims are created by the driver at run time, invisible to Pulumi: their
count is checked against the quota here too.
"""

from decimal import Decimal
from typing import Literal, Self

from flow_platform import validation
from flow_platform.k8s import Quantity
from flow_platform.openflow import SPARK_IMAGE, SPARK_VERSION, memory_overhead_mib, pod_memory_mib
from pydantic import Field, field_validator, model_validator

from ...config.base import (
    Endpoint,
    ImageConfig,
    NamespaceName,
    ObjectName,
    Storage,
    Strict,
    SystemConfig,
)
from ...errors import KeyProblem
from .operator import ApplicationConfig, SparkOperatorConfig, check_applications

OFFICIAL_REPOSITORIES = (SPARK_IMAGE, "spark", "docker.io/apache/spark", "docker.io/library/spark")
MAX_FACTOR = 10.0


Medium = Literal["disk", "memory"]
"""Where local dirs live: ``flow_platform.openflow.LocalDirMedium``'s values."""


def _whole_mib(memory: Quantity) -> int:
    if memory.value % 2**20:
        raise ValueError(
            f"{memory} is not a whole number of MiB: Spark sizes memory in MiB (e.g. 4Gi, 1536Mi)"
        )
    return int(memory.value // 2**20)


class ProcessConfig(Strict):
    """A driver or executor: Spark's cores, heap and overhead factor."""

    cores: int = Field(default=1, ge=1, le=256)
    """``spark.{driver,executor}.cores``: task slots and the pod's CPU request."""
    memory: Storage = Field(default_factory=lambda: Quantity.parse("4Gi"))
    """``spark.{driver,executor}.memory``: the JVM heap, whole MiB."""
    overhead_factor: float = Field(default=0.1, gt=0, le=MAX_FACTOR)
    """``memoryOverheadFactor``: 0.1 for JVM jobs, 0.4 for PySpark (its Python workers live there)."""

    @field_validator("memory")
    @classmethod
    def _mib(cls, value: Quantity) -> Quantity:
        _whole_mib(value)
        return value

    @property
    def memory_mib(self) -> int:
        return _whole_mib(self.memory)

    @property
    def pod_memory_mib(self) -> int:
        return pod_memory_mib(self.memory_mib, self.overhead_factor)

    @property
    def overhead_mib(self) -> int:
        return memory_overhead_mib(self.memory_mib, self.overhead_factor)

    def explain(self) -> str:
        """How Spark gets from the heap to the pod, for error messages."""
        return (
            f"{self.pod_memory_mib}Mi = memory {self.memory} + overhead {self.overhead_mib}Mi"
            f" (max({self.memory} x {self.overhead_factor}, 384Mi))"
        )


class DriverConfig(ProcessConfig):
    memory: Storage = Field(default_factory=lambda: Quantity.parse("2Gi"))


class DynamicAllocationConfig(Strict):
    """``spark.dynamicAllocation.*`` bounds; shuffle tracking is always on (no external shuffle service)."""

    min_executors: int = Field(default=0, ge=0, le=10_000)
    max_executors: int = Field(ge=1, le=10_000)
    initial_executors: int | None = Field(default=None, ge=0, le=10_000)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min_executors > self.max_executors:
            raise KeyProblem(
                ["minExecutors"], f"{self.min_executors} is above maxExecutors ({self.max_executors})"
            )
        if self.initial_executors is not None and not (
            self.min_executors <= self.initial_executors <= self.max_executors
        ):
            raise KeyProblem(
                ["initialExecutors"],
                f"{self.initial_executors} is not between minExecutors ({self.min_executors})"
                f" and maxExecutors ({self.max_executors})",
            )
        return self


class ExecutorConfig(ProcessConfig):
    """Executors: exactly one of a fixed ``instances`` or ``dynamicAllocation`` bounds."""

    instances: int | None = Field(default=None, ge=1, le=10_000)
    dynamic_allocation: DynamicAllocationConfig | None = None

    @model_validator(mode="after")
    def _one_mode(self) -> Self:
        if (self.instances is None) == (self.dynamic_allocation is None):
            raise KeyProblem(
                ["instances"],
                "set exactly one of executor.instances (a fixed count) or executor.dynamicAllocation"
                " (minExecutors, maxExecutors): the quota is checked against the most executors a job has",
            )
        return self

    @property
    def max_executors(self) -> int:
        if self.dynamic_allocation is not None:
            return self.dynamic_allocation.max_executors
        assert self.instances is not None
        return self.instances

    @property
    def count_key(self) -> list[str]:
        return ["dynamicAllocation", "maxExecutors"] if self.dynamic_allocation else ["instances"]


class LocalDirsConfig(Strict):
    """Spark's scratch and shuffle space in each pod (an emptyDir bounded by ``size``)."""

    medium: Medium = "disk"
    size: Storage = Field(default_factory=lambda: Quantity.parse("20Gi"))


class OnDemandClaimsConfig(Strict):
    """Executors' local dirs on claims the driver creates at run time (``claimName=OnDemand``)."""

    storage_class: ObjectName
    size: Storage = Field(default_factory=lambda: Quantity.parse("100Gi"))


class UiClientsConfig(Strict):
    """Pods allowed to reach the driver UI on 4040 (``kubectl port-forward`` needs no rule)."""

    namespace: NamespaceName
    pod_labels: dict[str, str] = Field(min_length=1)

    @field_validator("pod_labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        return validation.labels(value)


class OpenflowConfig(SystemConfig):
    """openflow: Spark jobs submitted with spark-submit in cluster mode into the env's namespace."""

    image: ImageConfig
    driver: DriverConfig = Field(default_factory=DriverConfig)
    executor: ExecutorConfig
    local_dirs: LocalDirsConfig = Field(default_factory=LocalDirsConfig)
    on_demand_claims: OnDemandClaimsConfig | None = None
    concurrent_applications: int = Field(default=1, ge=1, le=1_000)
    """How many jobs may run at once at their largest: the quota must hold them all."""
    submitter_groups: list[str] = Field(default_factory=list)
    """Kubernetes groups allowed to spark-submit into the namespace (a Role for exactly that)."""
    data_endpoints: list[Endpoint] = Field(default_factory=list)
    ui_clients: UiClientsConfig | None = None
    spark_operator: SparkOperatorConfig | None = None
    """This environment's kubeflow spark-operator (17s: systems/openflow/operator.py)."""
    applications: list[ApplicationConfig] = Field(default_factory=list)
    """SparkApplications (ScheduledSparkApplications with ``schedule``) the operator runs here."""

    @model_validator(mode="after")
    def _applications(self) -> Self:
        check_applications(self)
        return self

    @model_validator(mode="after")
    def _spark_version(self) -> Self:
        image = self.image
        if image.repository in OFFICIAL_REPOSITORIES and not (
            image.tag == SPARK_VERSION or image.tag.startswith(f"{SPARK_VERSION}-")
        ):
            raise KeyProblem(
                ["image", "tag"],
                f"{image.tag!r} is another Spark: openflow's driver Role, ports and pod sizes are verified"
                f" against Spark {SPARK_VERSION} (use {SPARK_VERSION} or a {SPARK_VERSION}-... variant;"
                " an image of your own built FROM it may have any tag)",
            )
        return self

    @model_validator(mode="after")
    def _tmpfs_fits(self) -> Self:
        if self.local_dirs.medium != "memory":
            return self
        size_mib = Decimal(self.local_dirs.size.value) / 2**20
        processes: list[tuple[str, ProcessConfig]] = [("driver", self.driver)]
        if self.on_demand_claims is None:
            processes.append(("executor", self.executor))
        for key, process in processes:
            if size_mib > process.overhead_mib:
                raise KeyProblem(
                    ["localDirs", "size"],
                    f"a memory-backed local dir counts in the pod's memory: {self.local_dirs.size} is above"
                    f" the {key}'s overhead ({process.overhead_mib}Mi = max({process.memory} x"
                    f" {process.overhead_factor}, 384Mi)), so a full local dir kills the {key};"
                    f" raise {key}.overheadFactor or use localDirs.medium disk",
                )
        return self

    @model_validator(mode="after")
    def _fits_the_namespace(self) -> Self:
        """Each pod within ``limits.max``; the largest jobs within the quota."""
        maximum = self.limits.max
        for key, process in (("driver", self.driver), ("executor", self.executor)):
            if Decimal(process.pod_memory_mib) * 2**20 > maximum.memory.value:
                raise KeyProblem(
                    [key, "memory"],
                    f"the {key} pod needs {process.explain()}, above limits.max.memory ({maximum.memory}):"
                    " the API server would reject the pod",
                )
            if Decimal(process.cores) > maximum.cpu.value:
                raise KeyProblem(
                    [key, "cores"],
                    f"{process.cores} is above limits.max.cpu ({maximum.cpu}): the pod is rejected",
                )
        apps, executors = self.concurrent_applications, self.executor.max_executors
        count = f"{executors} executors ({'.'.join(['executor', *self.executor.count_key])})"
        per_job = f"driver + {count}"
        if apps > 1:
            per_job = f"{apps} x ({per_job}; concurrentApplications)"
        memory = (
            Decimal(apps * (self.driver.pod_memory_mib + executors * self.executor.pod_memory_mib)) * 2**20
        )
        cpu = Decimal(apps * (self.driver.cores + executors * self.executor.cores))
        quota = self.quota
        for key, needed, allowed, shown in (
            ("requestsCpu", cpu, quota.requests_cpu, f"{cpu}"),
            ("requestsMemory", memory, quota.requests_memory, f"{memory / 2**20:.0f}Mi"),
            ("limitsMemory", memory, quota.limits_memory, f"{memory / 2**20:.0f}Mi"),
        ):
            if needed > allowed.value:
                raise KeyProblem(
                    ["quota", key],
                    f"{allowed} is below what the largest jobs need ({shown}: {per_job}; driver pod"
                    f" {self.driver.explain()}, executor pod {self.executor.explain()})",
                )
        pods = apps * (1 + executors)
        if quota.pods < pods:
            raise KeyProblem(
                ["quota", "pods"], f"{quota.pods} is below the {pods} pods of the largest jobs ({per_job})"
            )
        claims = self.claims()
        if quota.persistent_volume_claims < claims:
            raise KeyProblem(
                ["quota", "persistentVolumeClaims"],
                f"{quota.persistent_volume_claims} is below the {claims} on-demand claims the drivers create"
                f" (one per executor: {per_job})",
            )
        return self

    def claims(self) -> int:
        """Claims Spark's drivers create here at most (one per executor, with on-demand claims)."""
        if self.on_demand_claims is None:
            return 0
        return self.concurrent_applications * self.executor.max_executors
