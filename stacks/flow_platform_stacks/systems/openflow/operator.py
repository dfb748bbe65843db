"""openflow's second way to run jobs: the kubeflow spark-operator and the env's applications.

``flow-platform:openflow`` gets two optional keys: ``sparkOperator`` (this environment's operator,
in its own namespace ``spark-operator-<env>``, watching only this env's openflow namespace; the
cluster's CRDs managed by exactly one stack per cluster, like Flink's) and ``applications`` (each a
SparkApplication, or a ScheduledSparkApplication with ``schedule``). Applications run with the
block's ``driver`` / ``executor`` sizes and local dirs, so the namespace check the block already
makes (limits, quota, ``concurrentApplications``) covers them; they use the namespace's driver and
executor ServiceAccounts of the spark-submit environment.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Self

import pulumi
from flow_platform.openflow import (
    SPARK_OPERATOR_IMAGE,
    SPARK_OPERATOR_VERSION,
    OpenflowApplication,
    OpenflowApplicationArgs,
    OpenflowScheduledApplication,
    SparkOperator,
    SparkOperatorArgs,
)
from flow_platform.openflow.openflow_application import MAX_NAME_LENGTH, RESERVED_CONF
from flow_platform.openflow.openflow_scheduled_application import MAX_SCHEDULED_NAME_LENGTH
from flow_platform.openflow.spark_operator import CONTROLLER_MEMORY, DEFAULT_WORKERS
from pydantic import Field, field_validator, model_validator

from ...config.base import ImageConfig, NamespaceName, Strict
from ...errors import KeyProblem
from ...namespaces import namespace_sizes
from ...operators import OperatorInstall
from ..base import StackContext

if TYPE_CHECKING:
    from .config import OpenflowConfig

OPERATOR_IMAGE = "spark-operator"
"""The controller image's logical name in the ECR mirror."""
OPERATOR_GUARDRAILS = namespace_sizes(
    request=("100m", "256Mi"),
    limit="512Mi",
    maximum=("1", CONTROLLER_MEMORY),
    quota=("1", "4Gi", "4Gi"),  # the controller twice (a rollout surges one pod)
    pods=2,
    claims=0,
)
ApplicationType = Literal["Scala", "Java", "Python", "R"]
ConcurrencyPolicy = Literal["Forbid", "Allow", "Replace"]


def _default_image() -> ImageConfig:
    repository, _, tag = SPARK_OPERATOR_IMAGE.rpartition(":")
    return ImageConfig(repository=repository, tag=tag)


class SparkOperatorConfig(Strict):
    """This environment's spark-operator (chart 2.5.2, no webhook)."""

    cluster: str = Field(pattern=r"^[a-z0-9][-a-z0-9]*$")
    """Name of the Kubernetes cluster; the stacks on one cluster share its spark-operator CRDs."""
    manage_crds: bool = False
    """This stack creates the cluster's SparkApplication, ScheduledSparkApplication and SparkConnect
    CRDs (exactly one stack per cluster); the others read them, so they come up after it."""
    namespace: NamespaceName | None = None
    """The operator's namespace (default ``spark-operator-<env>``)."""
    image: ImageConfig = Field(default_factory=_default_image)
    """The controller image, pinned (default the chart's:
    ghcr.io/kubeflow/spark-operator/controller:2.5.2)."""
    workers: int = Field(default=DEFAULT_WORKERS, ge=1, le=16)
    """Concurrent submissions; each runs a spark-submit JVM in the controller's 2Gi."""

    @field_validator("image")
    @classmethod
    def _tagged(cls, value: ImageConfig) -> ImageConfig:
        if value.repository.endswith("spark-operator/controller") and value.tag != SPARK_OPERATOR_VERSION:
            raise KeyProblem(
                ["tag"],
                f"{value.tag!r}: the operator's objects are the chart {SPARK_OPERATOR_VERSION}'s,"
                f" for controller {SPARK_OPERATOR_VERSION}",
            )
        return value


class ApplicationConfig(Strict):
    """One application the operator runs: a SparkApplication, or with ``schedule`` a
    ScheduledSparkApplication."""

    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=MAX_NAME_LENGTH)
    type: ApplicationType = "Scala"
    main_application_file: str = Field(min_length=1)
    main_class: str | None = None
    arguments: list[str] = Field(default_factory=list)
    spark_conf: dict[str, str] = Field(default_factory=dict)
    retries: int = Field(default=0, ge=0, le=100)
    schedule: str | None = Field(default=None, pattern=r"^\S+ \S+ \S+ \S+ \S+$")
    time_zone: str | None = None
    concurrency_policy: ConcurrencyPolicy = "Forbid"

    @field_validator("spark_conf")
    @classmethod
    def _conf(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key in RESERVED_CONF:
                raise KeyProblem(
                    [key], f"is decided by {RESERVED_CONF[key]} (the block's sizes and accounts)"
                )
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        import zoneinfo

        if value is not None and value not in zoneinfo.available_timezones():
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Warsaw")
        return value

    @model_validator(mode="after")
    def _schedule(self) -> Self:
        if self.schedule is None:
            for key, value in (("timeZone", self.time_zone),):
                if value is not None:
                    raise KeyProblem([key], "only used with schedule")
            return self
        if len(self.name) > MAX_SCHEDULED_NAME_LENGTH:
            raise KeyProblem(
                ["name"],
                f"{len(self.name)} characters; a scheduled application's name has at most"
                f" {MAX_SCHEDULED_NAME_LENGTH} (each run is <name>-<19-digit timestamp>)",
            )
        if self.concurrency_policy == "Allow":
            raise KeyProblem(
                ["concurrencyPolicy"],
                "a run started while the previous one runs would exceed what concurrentApplications"
                " sized the quota for: use Forbid or Replace",
            )
        return self


def check_applications(block: "OpenflowConfig") -> None:
    """Applications need the operator, unique names, and the quota the block sized them with."""
    apps = block.applications
    if apps and block.spark_operator is None:
        raise KeyProblem(["applications"], "needs sparkOperator (the operator that runs them)")
    if apps and block.on_demand_claims is not None:
        raise KeyProblem(
            ["applications"],
            "not with onDemandClaims yet: the applications' executors take their local dir from"
            " localDirs (an emptyDir); use spark-submit for jobs on on-demand claims",
        )
    names = [a.name for a in apps]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise KeyProblem(["applications", i, "name"], f"{name!r} is used twice")
    if len(apps) > block.concurrent_applications:
        raise KeyProblem(
            ["concurrentApplications"],
            f"{block.concurrent_applications} is below the {len(apps)} applications: the quota is"
            " checked for concurrentApplications jobs at their largest, and each application (or"
            " schedule, with concurrencyPolicy Forbid/Replace) may run at once",
        )


def operator_namespace_of(block: "OpenflowConfig", env: str) -> str:
    """The operator's namespace: configured, else ``spark-operator-<env>`` (one per environment)."""
    operator = block.spark_operator
    return (operator.namespace if operator else None) or f"spark-operator-{env}"


def operator_install(block: "OpenflowConfig", namespace: str) -> list[OperatorInstall]:
    """The spark-operator this stack installs (:mod:`flow_platform_stacks.operators`: exactly one
    stack per cluster manages its CRDs; this stack's operator watches its own openflow namespace)."""
    operator = block.spark_operator
    if operator is None:
        return []
    return [
        OperatorInstall(
            operator="spark-operator",
            title="spark-operator",
            cluster=operator.cluster,
            owns_crds=operator.manage_crds,
            owner_key=("openflow", "sparkOperator", "manageCrds"),
            watched=(namespace,),
        )
    ]


def application_args(
    ctx: StackContext,
    block: "OpenflowConfig",
    namespace: str,
    app: ApplicationConfig,
    image: str,
    accounts: tuple[Any, Any],
) -> OpenflowApplicationArgs:
    """One application's component args: the block's sizes, image and local dirs."""
    driver, executor = block.driver, block.executor
    args: Any = {
        "namespace": namespace,
        "env": ctx.env,
        "name": app.name,
        "image": image,
        "spark_version": _spark_version(block),
        "type": app.type,
        "main_application_file": app.main_application_file,
        "driver": {
            "cores": driver.cores,
            "memory": str(driver.memory),
            "memory_overhead_factor": driver.overhead_factor,
        },
        "executor": {
            "cores": executor.cores,
            "memory": str(executor.memory),
            "memory_overhead_factor": executor.overhead_factor,
        },
        "local_dir_medium": block.local_dirs.medium,
        "local_dir_size": str(block.local_dirs.size),
        "driver_service_account": accounts[0],
        "executor_service_account": accounts[1],
        "retries": app.retries,
    }
    if executor.dynamic_allocation is not None:
        bounds = executor.dynamic_allocation
        args["dynamic_allocation"] = {
            "min_executors": bounds.min_executors,
            "max_executors": bounds.max_executors,
        }
        if bounds.initial_executors is not None:
            args["dynamic_allocation"]["initial_executors"] = bounds.initial_executors
    else:
        args["executor"]["instances"] = executor.instances
    if app.main_class:
        args["main_class"] = app.main_class
    if app.arguments:
        args["arguments"] = list(app.arguments)
    if app.spark_conf:
        args["spark_conf"] = dict(app.spark_conf)
    result: OpenflowApplicationArgs = args
    return result


def _spark_version(block: "OpenflowConfig") -> str:
    from flow_platform.openflow import SPARK_VERSION

    return SPARK_VERSION


def deploy_operator_and_applications(
    ctx: StackContext,
    block: "OpenflowConfig",
    namespace: str,
    image: str,
    accounts: tuple[Any, Any],
    after: Sequence[pulumi.Resource],
) -> dict[str, Any]:
    """Register the operator (with its namespace) and the applications; returns output entries."""
    operator = block.spark_operator
    if operator is None:
        return {"sparkOperatorNamespace": "", "applications": []}
    operator_namespace = operator_namespace_of(block, ctx.env)
    guardrails = ctx.guarded_namespace("spark-operator", operator_namespace, "openflow", OPERATOR_GUARDRAILS)
    args: SparkOperatorArgs = {
        "namespace": operator_namespace,
        "env": ctx.env,
        "image": ctx.foundation.image(OPERATOR_IMAGE),
        "job_namespaces": list(ctx.operators["spark-operator"]),
        "manage_crds": operator.manage_crds,
        "protect": ctx.protect,
        "workers": operator.workers,
        "api_server_cidrs": list(ctx.api_server.cidrs),
        "api_server_port": ctx.api_server.port,
    }
    spark_operator = SparkOperator(
        "spark-operator-install",
        args,
        ctx.foundation.after_images(ctx.merged(guardrails), OPERATOR_IMAGE),
    )
    # the CRs carry the operator's finalizers: created after, deleted before the operator
    app_opts = ctx.merged(spark_operator, *after)
    for app in block.applications:
        app_args = application_args(ctx, block, namespace, app, image, accounts)
        if app.schedule is None:
            OpenflowApplication(f"openflow-app-{app.name}", app_args, app_opts)
        else:
            scheduled: Any = {
                "application": app_args,
                "schedule": app.schedule,
                "concurrency_policy": app.concurrency_policy,
            }
            if app.time_zone:
                scheduled["time_zone"] = app.time_zone
            OpenflowScheduledApplication(f"openflow-schedule-{app.name}", scheduled, app_opts)
    return {
        "sparkOperatorNamespace": operator_namespace,
        "applications": [a.name for a in block.applications],
    }
