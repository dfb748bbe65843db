"""Typed stack configuration: everything a person writes in ``Pulumi.<env>.yaml``.

Keys are camelCase (Pulumi's convention); unknown keys are errors, never ignored. Kubernetes
quantities are parsed and compared by value. Secrets are ``SecretStr`` here and become
``pulumi.Output.secret`` values when they reach a component. One module per block: ``base``
(shared pieces and namespace guardrails), ``partek``, ``aws``.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Self

from flow_platform.aws import CACHEABLE, ImageRef, needs_copy
from flow_platform.k8s import Quantity
from pydantic import BeforeValidator, ValidationError, model_validator

from ..errors import KeyProblem
from .aws import AwsConfig, ClusterFacts, ClusterStack, EcrConfig, EfsConfig
from .base import SYSTEMS, Environment, KubernetesConfig, Strict, SystemConfig
from .flink import FlinkConfig
from .hyperflow import HyperflowConfig
from .monitoring import MonitoringConfig, nfr_namespaces
from .partek import PartekConfig

__all__ = [
    "SYSTEMS",
    "AwsConfig",
    "ClusterFacts",
    "ClusterStack",
    "EcrConfig",
    "EfsConfig",
    "Environment",
    "FlinkConfig",
    "HyperflowConfig",
    "MonitoringConfig",
    "PartekConfig",
    "StackConfig",
    "SystemConfig",
]


@dataclass(frozen=True)
class Workload:
    """Pods of one kind a system runs in its namespace, with the keys that size them."""

    what: str
    path: tuple[str, ...]
    count: int
    cpu: Quantity
    memory: Quantity
    memory_limit: Quantity
    cpu_key: str = "cpu"
    memory_key: str = "memory"
    memory_limit_key: str = "memoryLimit"


CLAIMS = {"partek": 1, "flink": 1, "hyperflow": 1}
"""Claims each system creates (or, for partek.home.claimName, uses) in its own namespace."""
ONE_SHOT_JOB = (Quantity.parse("250m"), Quantity.parse("512Mi"))
"""HyperflowJobs' container size (flow_platform.hyperflow.HyperflowJobs)."""


def workloads(system: str, block: SystemConfig) -> list[Workload]:
    """What the stack runs in ``system``'s namespace, as the components size it.

    Flink's operator sets request = limit for JobManager and TaskManager memory (limit factor 1.0).
    """
    if isinstance(block, PartekConfig):
        head = block.headnode
        loads = [
            Workload("headnode", ("headnode",), 1, head.cpu, head.memory, head.memory_limit or head.memory)
        ]
        if block.workers is not None and block.workers.replicas > 0:
            w = block.workers
            loads.append(
                Workload("workers", ("workers",), w.replicas, w.cpu, w.memory, w.memory_limit or w.memory)
            )
        return loads
    if isinstance(block, FlinkConfig):
        loads = []
        for key, process in (
            ("jobManager", block.cluster.job_manager),
            ("taskManager", block.cluster.task_manager),
        ):
            cpu = Quantity.parse(f"{Decimal(str(process.cpu)).normalize():f}")
            loads.append(
                Workload(
                    key,
                    ("cluster", key),
                    process.replicas,
                    cpu,
                    process.memory,
                    process.memory,
                    memory_limit_key="memory",
                )
            )
        return loads
    if isinstance(block, HyperflowConfig):
        worker = block.worker
        loads = [
            Workload("engine", ("engine",), 1, block.engine.cpu, block.engine.memory, block.engine.memory),
            Workload("redis", ("redis",), 1, block.redis.cpu, block.redis.memory, block.redis.memory),
            Workload(
                "job pods (at least one)",
                ("worker",),
                1,
                worker.cpu,
                worker.memory,
                worker.memory_limit or worker.memory,
            ),
        ]
        for name in block.jobs.enabled():
            field = {"data-staging": "dataStaging", "log-parser": "logParser", "viz-trace": "vizTrace"}[name]
            cpu, memory = ONE_SHOT_JOB
            loads.append(Workload(f"job {name}", ("jobs", field), 1, cpu, memory, memory))
        return loads
    return []


def _config_bool(value: Any) -> Any:
    """Top-level scalars arrive as the CLI's text: exactly ``true`` or ``false`` is a boolean."""
    return {"true": True, "false": False}.get(value, value) if isinstance(value, str) else value


class StackConfig(Strict):
    """The whole ``flow-platform:`` namespace of one stack."""

    environment: Environment
    protect: Annotated[bool, BeforeValidator(_config_bool)] = False
    """Protect stateful resources (namespaces, volumes, file systems, license storage); required in prd."""
    kubernetes: KubernetesConfig
    aws: AwsConfig | None = None
    partek: PartekConfig | None = None
    flink: FlinkConfig | None = None
    hyperflow: HyperflowConfig | None = None
    monitoring: MonitoringConfig | None = None
    """The NFR rules over the systems that measure NFRs (config/monitoring.py)."""

    @model_validator(mode="after")
    def _monitoring_rules(self) -> Self:
        if self.monitoring is not None:
            self.monitoring.check(nfr_namespaces(self))
        return self

    @model_validator(mode="before")
    @classmethod
    def _disabled_systems(cls, data: Any) -> Any:
        """``enabled: false`` needs nothing else: a disabled block missing required keys is dropped.

        A disabled block that is complete, or has another mistake, is still validated in full.
        """
        if not isinstance(data, dict):
            return data
        models: dict[str, type[SystemConfig]] = {
            "partek": PartekConfig,
            "flink": FlinkConfig,
            "hyperflow": HyperflowConfig,
        }
        data = dict(data)
        for name, model in models.items():
            block = data.get(name)
            if not isinstance(block, dict) or block.get("enabled") is not False:
                continue
            try:
                model.model_validate(block)
            except ValidationError as error:
                if all(e["type"] == "missing" for e in error.errors()):
                    data[name] = None
        return data

    @model_validator(mode="after")
    def _environment_rules(self) -> Self:
        if self.environment == "prd" and not self.protect:
            raise KeyProblem(["protect"], "must be true in prd: stateful resources are protected there")
        seen: dict[str, str] = {}
        for system in SYSTEMS:
            namespace = self.namespace_of(system)
            if namespace is None:
                continue
            if namespace in seen:
                raise KeyProblem(
                    [system, "namespace"], f"{namespace!r} is already the namespace of {seen[namespace]}"
                )
            seen[namespace] = system
        return self

    @model_validator(mode="after")
    def _aws_rules(self) -> Self:
        aws = self.aws
        partek = self.partek if self.partek is not None and self.partek.enabled else None
        if partek is not None and partek.home.efs and (aws is None or aws.efs is None):
            raise KeyProblem(["partek", "home", "efs"], "needs aws.efs (and aws: accountId, region, cluster)")
        hyperflow = self.hyperflow if self.hyperflow is not None and self.hyperflow.enabled else None
        if hyperflow is not None and hyperflow.storage.mode == "efs" and (aws is None or aws.efs is None):
            raise KeyProblem(
                ["hyperflow", "storage", "mode"], "'efs' needs aws.efs; use 'in-cluster' without AWS"
            )
        if hyperflow is not None and hyperflow.storage.mode == "in-cluster" and self.environment == "prd":
            raise KeyProblem(
                ["hyperflow", "storage", "mode"],
                "'in-cluster' is not allowed in prd: its NFS server runs as root with added capabilities "
                "and a single replica; use 'efs'",
            )
        if partek is not None:
            problem = partek.pull_auth_problem(aws is not None and aws.mirror() is not None)
            if problem is not None:
                raise KeyProblem(["partek", "imagePullAuth"], problem)
        if aws is None:
            return self
        if self.environment == "prd" and aws.efs is not None and aws.efs.kms_key_arn is None:
            raise KeyProblem(["aws", "efs", "kmsKeyArn"], "required in prd: encrypt with a customer KMS key")
        if self.protect and aws.efs is not None and aws.efs.backup is None:
            raise KeyProblem(
                ["aws", "efs", "backup"],
                "required where protect is true: an AWS Backup plan (schedule, deleteAfterDays)"
                " for the file systems",
            )
        mirror = aws.mirror()
        if mirror is not None:
            images = self.images()
            copied = sorted(name for name, ref in images.items() if needs_copy(ref))
            if copied and mirror.copy_job is None:
                raise KeyProblem(
                    ["aws", "ecr", "copyJob"],
                    f"required: {', '.join(copied)} come from registries ECR cannot cache, so the copy job"
                    " must push them (set copyJob.sourceAuth with their credentials)",
                )
            for ref in images.values():
                registry = ImageRef.parse(ref).registry
                upstream = CACHEABLE.get(registry)
                if (
                    upstream is not None
                    and upstream.needs_credentials
                    and upstream.key not in mirror.credential_arns
                ):
                    raise KeyProblem(
                        ["aws", "ecr", "credentialArns", upstream.key],
                        f"the {registry} pull-through cache needs a Secrets Manager credential"
                        " (named ecr-pullthroughcache/...)",
                    )
        return self

    @model_validator(mode="after")
    def _fits_namespace(self) -> Self:
        """Each container within ``limits.max``; all of them, their pods and claims within the quota."""
        for system in self.enabled_systems():
            block = self.system(system)
            assert block is not None
            loads = workloads(system, block)
            for load in loads:
                for field, value, maximum in (
                    (load.cpu_key, load.cpu, block.limits.max.cpu),
                    (load.memory_key, load.memory, block.limits.max.memory),
                    (load.memory_limit_key, load.memory_limit, block.limits.max.memory),
                ):
                    if value.value > maximum.value:
                        raise KeyProblem(
                            [system, *load.path, field],
                            f"{value} is above {system}.limits.max.{'cpu' if field == 'cpu' else 'memory'}"
                            f" ({maximum}): the API server would reject the pod",
                        )
            quota = block.quota
            totals = (
                ("requestsCpu", sum((w.cpu.value * w.count for w in loads), Decimal(0)), quota.requests_cpu),
                (
                    "requestsMemory",
                    sum((w.memory.value * w.count for w in loads), Decimal(0)),
                    quota.requests_memory,
                ),
                (
                    "limitsMemory",
                    sum((w.memory_limit.value * w.count for w in loads), Decimal(0)),
                    quota.limits_memory,
                ),
            )
            for key, total, allowed in totals:
                if total > allowed.value:
                    shown = f"{total / 2**30:.1f}Gi" if key != "requestsCpu" else f"{total.normalize():f}"
                    raise KeyProblem(
                        [system, "quota", key],
                        f"{allowed} is below what the {system} workloads need ({shown}: "
                        + ", ".join(f"{w.what} x{w.count}" for w in loads)
                        + ")",
                    )
            pods = sum(w.count for w in loads)
            if quota.pods < pods:
                raise KeyProblem(
                    [system, "quota", "pods"],
                    f"{quota.pods} is below the {pods} pods the stack runs here ("
                    + ", ".join(f"{w.what} x{w.count}" for w in loads)
                    + ")",
                )
            claims = CLAIMS[system]
            if isinstance(block, HyperflowConfig) and block.redis.persistence is not None:
                claims += 1  # redis's own data claim
            if quota.persistent_volume_claims < claims:
                raise KeyProblem(
                    [system, "quota", "persistentVolumeClaims"],
                    f"{quota.persistent_volume_claims} is below the {claims} claim(s) the stack creates here",
                )
        return self

    def images(self) -> dict[str, str]:
        """Every image the stack runs, logical name -> upstream reference."""
        images: dict[str, str] = {}
        partek = self.system("partek")
        if isinstance(partek, PartekConfig):
            images.update(partek.images())
        hyperflow = self.system("hyperflow")
        if isinstance(hyperflow, HyperflowConfig):
            images.update(hyperflow.images())
        flink = self.system("flink")
        if isinstance(flink, FlinkConfig):
            images.update(flink.images())
        mirror = self.aws.mirror() if self.aws is not None else None
        if mirror is not None and mirror.copy_job is not None and any(needs_copy(r) for r in images.values()):
            images["skopeo"] = mirror.copy_job.copier_image
            images["aws-cli"] = mirror.copy_job.aws_cli_image
        return images

    def system(self, name: str) -> SystemConfig | None:
        block: SystemConfig | None = getattr(self, name)
        return block if block is not None and block.enabled else None

    def namespace_of(self, name: str) -> str | None:
        block = self.system(name)
        if block is None:
            return None
        return block.namespace or f"{name}-{self.environment}"

    def enabled_systems(self) -> list[str]:
        return [name for name in SYSTEMS if self.system(name) is not None]
