"""The ``flow-platform:flink`` block: the operator (one installer per cluster) and the Flink cluster."""

from typing import Literal, Self

from flow_platform.flink import (
    ARTIFACT_SCHEME_PORTS,
    FLINK_VERSIONS,
    JOB_STATES,
    OPERATOR_VERSION,
    SUPPORTED_FLINK_VERSIONS,
    UPGRADE_MODES,
    jar_uri_problem,
)
from flow_platform.flink import flink_cluster as cluster_defaults
from flow_platform.flink import flink_operator as operator_defaults
from flow_platform.k8s import Quantity
from pydantic import Field, SecretStr, field_validator, model_validator

from ...config.base import HOSTNAME, ImageConfig, Memory, NamespaceName, ObjectName, Strict, SystemConfig
from ...config.rules import restart_strategy_problems
from ...errors import KeyProblem

FlinkVersion = Literal["v1_19", "v1_20", "v2_0", "v2_1", "v2_2"]
UpgradeMode = Literal["last-state", "savepoint", "stateless"]
JobState = Literal["running", "suspended"]
ArtifactScheme = Literal["https", "http"]
assert FlinkVersion.__args__ == SUPPORTED_FLINK_VERSIONS  # type: ignore[attr-defined]
assert ArtifactScheme.__args__ == tuple(ARTIFACT_SCHEME_PORTS)  # type: ignore[attr-defined]
assert UpgradeMode.__args__ == UPGRADE_MODES  # type: ignore[attr-defined]
assert JobState.__args__ == JOB_STATES  # type: ignore[attr-defined]


class OperatorConfig(Strict):
    """This environment's operator; the cluster's CRDs are managed by one stack per cluster."""

    cluster: str = Field(pattern=r"^[a-z0-9][-a-z0-9]*$")
    """Name of the Kubernetes cluster; the stacks on one cluster share its CRDs."""
    manage_crds: bool = False  # the stack's decision: no component default
    """This stack creates the cluster's Flink CRDs (exactly one stack per cluster); the others read
    them, so they come up after it."""
    namespace: NamespaceName | None = None
    """The operator's namespace (default ``flink-operator-<env>``)."""
    image: ImageConfig
    """The operator image, pinned."""
    webhook: bool = operator_defaults.DEFAULT_WEBHOOK
    """The admission webhook; needs cert-manager in the cluster and ``webhookKeystorePassword``."""
    webhook_keystore_password: SecretStr | None = None
    """The webhook keystore's password, a secret (``pulumi config set --secret --path
    flink.operator.webhookKeystorePassword``); the chart's default one is public."""
    artifact_schemes: list[ArtifactScheme] = Field(
        default_factory=lambda: list(operator_defaults.DEFAULT_ARTIFACT_SCHEMES),  # type: ignore[arg-type]
        min_length=1,
    )
    """Session-job jar schemes the operator may fetch (its ``user.artifacts.allowed-schemes``)."""
    artifact_cidrs: list[str] = Field(default_factory=list)
    """Addresses the operator fetches session-job jars from (egress on the schemes' ports)."""

    @model_validator(mode="after")
    def _webhook(self) -> Self:
        if self.webhook and self.webhook_keystore_password is None:
            raise KeyProblem(
                ["webhookKeystorePassword"],
                "required with webhook: true (a secret; the chart's default password is public)",
            )
        if not self.webhook and self.webhook_keystore_password is not None:
            raise KeyProblem(["webhookKeystorePassword"], "only used with webhook: true")
        return self


class ProcessConfig(Strict):
    replicas: int = Field(default=1, ge=1, le=100)
    cpu: float = Field(gt=0, le=64)
    memory: Memory


class JobConfig(Strict):
    jar_uri: str = Field(pattern=r"^(local|file|https?|s3a?)://\S+\.jar$")
    parallelism: int = Field(ge=1)
    upgrade_mode: UpgradeMode = cluster_defaults.DEFAULT_UPGRADE_MODE
    state: JobState = cluster_defaults.DEFAULT_STATE
    entry_class: str | None = None
    args: list[str] = Field(default_factory=list)


class SessionJobConfig(JobConfig):
    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class FlinkClusterConfig(Strict):
    """The FlinkDeployment."""

    name: str = Field(pattern=r"^[a-z]([-a-z0-9]{0,40}[a-z0-9])?$")
    image: ImageConfig
    flink_version: FlinkVersion
    """Operator 1.15.0 runs v1_19 and newer (v1_13/v1_14 refused, v1_15..v1_18 deprecated)."""
    mode: Literal["application", "session"]
    job: JobConfig | None = None
    session_jobs: list[SessionJobConfig] = Field(default_factory=list)
    job_manager: ProcessConfig
    task_manager: ProcessConfig
    slots: int = Field(default=cluster_defaults.DEFAULT_SLOTS, ge=1, le=64)
    """Task slots per TaskManager; the component's default (Flink's own: one)."""
    ha: bool = cluster_defaults.DEFAULT_HA
    checkpoint_interval: str = Field(
        default=cluster_defaults.DEFAULT_CHECKPOINT_INTERVAL, pattern=r"^\d+ ?(ms|s|min|h)$"
    )
    checkpoints_retained: int = Field(default=cluster_defaults.DEFAULT_CHECKPOINTS_RETAINED, ge=1, le=100)
    restart_strategy: dict[str, str] = Field(
        default_factory=lambda: dict(cluster_defaults.DEFAULT_RESTART_STRATEGY)
    )
    flink_configuration: dict[str, str] = Field(default_factory=dict)
    service_account: ObjectName = cluster_defaults.DEFAULT_SERVICE_ACCOUNT
    storage_size: Memory = Field(default_factory=lambda: Quantity.parse("50Gi"))
    ingress_host: str | None = None
    tls_secret: ObjectName | None = None
    cluster_issuer: ObjectName | None = None
    savepoint_snapshot: bool = False

    @field_validator("flink_version", mode="before")
    @classmethod
    def _flink_version(cls, value: object) -> object:
        if isinstance(value, str) and value in FLINK_VERSIONS and value not in SUPPORTED_FLINK_VERSIONS:
            state = "refuses" if value in ("v1_13", "v1_14") else "deprecates"
            supported = ", ".join(SUPPORTED_FLINK_VERSIONS)
            raise ValueError(f"operator {OPERATOR_VERSION} {state} {value}: use one of {supported}")
        return value

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

    @model_validator(mode="after")
    def _session_jars(self) -> Self:
        """Session jobs' jars are fetched by the operator: only what it accepts and can reach."""
        schemes = list(self.operator.artifact_schemes)
        for i, job in enumerate(self.cluster.session_jobs):
            problem = jar_uri_problem(job.jar_uri, schemes)
            if problem:
                raise KeyProblem(
                    ["cluster", "sessionJobs", i, "jarUri"], f"operator {OPERATOR_VERSION}: {problem}"
                )
        if self.cluster.session_jobs and not self.operator.artifact_cidrs:
            raise KeyProblem(
                ["operator", "artifactCidrs"],
                "required with sessionJobs: the operator fetches their jars and needs an egress rule to them",
            )
        return self

    def images(self) -> dict[str, str]:
        return {"flink": self.cluster.image.ref(), "flink-operator": self.operator.image.ref()}
