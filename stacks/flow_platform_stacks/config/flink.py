"""The ``flow-platform:flink`` block: the operator (one installer per cluster) and the Flink cluster."""

from typing import Literal, Self

from flow_platform.flink import FLINK_VERSIONS, JOB_STATES, UPGRADE_MODES
from flow_platform.k8s import Quantity
from pydantic import Field, field_validator, model_validator

from ..errors import KeyProblem
from .base import HOSTNAME, Memory, NamespaceName, ObjectName, Strict, SystemConfig
from .partek import ImageConfig
from .rules import restart_strategy_problems

FlinkVersion = Literal[
    "v1_13", "v1_14", "v1_15", "v1_16", "v1_17", "v1_18", "v1_19", "v1_20", "v2_0", "v2_1", "v2_2"
]
UpgradeMode = Literal["last-state", "savepoint", "stateless"]
JobState = Literal["running", "suspended"]
assert FlinkVersion.__args__ == FLINK_VERSIONS  # type: ignore[attr-defined]
assert UpgradeMode.__args__ == UPGRADE_MODES  # type: ignore[attr-defined]
assert JobState.__args__ == JOB_STATES  # type: ignore[attr-defined]


class OperatorConfig(Strict):
    """Which stack installs the operator for a cluster; the others rely on it."""

    install: bool = False
    cluster: str = Field(pattern=r"^[a-z0-9][-a-z0-9]*$")
    """Name of the Kubernetes cluster the operator serves; stacks on one cluster share one operator."""
    namespace: NamespaceName = "flink-operator"
    image: ImageConfig | None = None
    """The operator image (installer only), pinned."""
    webhook: bool = False
    """The admission webhook; needs cert-manager in the cluster."""

    @model_validator(mode="after")
    def _installer(self) -> Self:
        if self.install and self.image is None:
            raise KeyProblem(["image"], "required when install is true: pin the operator image")
        if not self.install and (self.image is not None or self.webhook):
            raise KeyProblem(
                ["install"],
                "image and webhook are the installing stack's settings; this stack"
                " only relies on the operator",
            )
        return self


class ProcessConfig(Strict):
    replicas: int = Field(default=1, ge=1, le=100)
    cpu: float = Field(gt=0, le=64)
    memory: Memory


class JobConfig(Strict):
    jar_uri: str = Field(pattern=r"^(local|file|https?|s3a?)://\S+\.jar$")
    parallelism: int = Field(ge=1)
    upgrade_mode: UpgradeMode = "stateless"
    state: JobState = "running"
    entry_class: str | None = None
    args: list[str] = Field(default_factory=list)


class SessionJobConfig(JobConfig):
    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class FlinkClusterConfig(Strict):
    """The FlinkDeployment."""

    name: str = Field(pattern=r"^[a-z]([-a-z0-9]{0,40}[a-z0-9])?$")
    image: ImageConfig
    flink_version: FlinkVersion
    mode: Literal["application", "session"]
    job: JobConfig | None = None
    session_jobs: list[SessionJobConfig] = Field(default_factory=list)
    job_manager: ProcessConfig
    task_manager: ProcessConfig
    slots: int = Field(default=2, ge=1, le=64)
    ha: bool = True
    checkpoint_interval: str = Field(default="60 s", pattern=r"^\d+ ?(ms|s|min|h)$")
    checkpoints_retained: int = Field(default=3, ge=1, le=100)
    restart_strategy: dict[str, str] = Field(default_factory=lambda: {"type": "exponential-delay"})
    flink_configuration: dict[str, str] = Field(default_factory=dict)
    service_account: ObjectName = "flink"
    storage_size: Memory = Field(default_factory=lambda: Quantity.parse("50Gi"))
    ingress_host: str | None = None
    tls_secret: ObjectName | None = None
    cluster_issuer: ObjectName | None = None
    savepoint_snapshot: bool = False

    @field_validator("restart_strategy")
    @classmethod
    def _restart_strategy(cls, value: dict[str, str]) -> dict[str, str]:
        for key, problem in restart_strategy_problems(value):
            raise KeyProblem([key], problem)
        return value

    @field_validator("ingress_host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and not HOSTNAME.match(value):
            raise ValueError("a lowercase DNS host name such as flink.dev.example.com")
        return value

    @model_validator(mode="after")
    def _modes(self) -> Self:
        if self.mode == "application":
            if self.job is None:
                raise KeyProblem(["job"], "application mode needs a job (jarUri, parallelism)")
            if self.session_jobs:
                raise KeyProblem(["sessionJobs"], "session jobs need mode 'session'")
        elif self.job is not None:
            raise KeyProblem(["job"], "session mode has no job of its own: use sessionJobs")
        seen: dict[str, int] = {}
        for i, session_job in enumerate(self.session_jobs):
            first = seen.setdefault(session_job.name, i)
            if first != i:
                raise KeyProblem(
                    ["sessionJobs", i, "name"],
                    f"{session_job.name!r} is already the name of sessionJobs[{first}]:"
                    " each session job is its own FlinkSessionJob",
                )
        slots_total = self.slots * self.task_manager.replicas
        jobs = [("job", self.job)] if self.job else []
        jobs += [(f"sessionJobs[{i}]", j) for i, j in enumerate(self.session_jobs)]
        for path, job in jobs:
            assert job is not None
            if job.parallelism > slots_total:
                key = [*path.replace("]", "").split("["), "parallelism"]
                raise KeyProblem(
                    [int(k) if k.isdigit() else k for k in key],
                    f"{job.parallelism} is above the {slots_total} slots available"
                    f" ({self.task_manager.replicas} TaskManagers x {self.slots} slots)",
                )
        if self.ingress_host and (self.tls_secret is None) == (self.cluster_issuer is None):
            raise KeyProblem(["tlsSecret"], "with ingressHost, set exactly one of tlsSecret or clusterIssuer")
        return self


class FlinkConfig(SystemConfig):
    """Flink: the operator and one Flink cluster."""

    operator: OperatorConfig
    cluster: FlinkClusterConfig

    def images(self) -> dict[str, str]:
        images = {"flink": self.cluster.image.ref()}
        if self.operator.install and self.operator.image is not None:
            images["flink-operator"] = self.operator.image.ref()
        return images
