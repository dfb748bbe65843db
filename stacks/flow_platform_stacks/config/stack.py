"""The whole ``flow-platform:`` namespace of one stack: the shared blocks, and one optional block
per system of the registry (:data:`flow_platform_stacks.systems.REGISTRY`)."""

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Self

from flow_platform.aws import CACHEABLE, ImageRef, needs_copy
from pydantic import BeforeValidator, Field, ValidationError, create_model, model_validator

from ..errors import KeyProblem, KeyProblems
from ..systems import REGISTRY, System
from .aws import AwsConfig
from .base import Environment, KubernetesConfig, Strict, SystemConfig
from .monitoring import MonitoringConfig

SYSTEMS = tuple(system.name for system in REGISTRY)
"""Systems an environment may run; each has a top-level config key of the same name."""
BY_NAME: dict[str, System[Any]] = {system.name: system for system in REGISTRY}


def _config_bool(value: Any) -> Any:
    """Top-level scalars arrive as the CLI's text: exactly ``true`` or ``false`` is a boolean."""
    return {"true": True, "false": False}.get(value, value) if isinstance(value, str) else value


class StackConfigBase(Strict):
    """The whole ``flow-platform:`` namespace of one stack, without the system blocks (see
    :data:`StackConfig`)."""

    environment: Environment
    protect: Annotated[bool, BeforeValidator(_config_bool)] = False
    """Protect stateful resources (namespaces, volumes, file systems, license storage); required in prd."""
    kubernetes: KubernetesConfig
    aws: AwsConfig | None = None
    monitoring: MonitoringConfig | None = None
    """The NFR rules over the systems with ``nfr_monitoring`` (config/monitoring.py)."""

    @model_validator(mode="before")
    @classmethod
    def _disabled_systems(cls, data: Any) -> Any:
        """``enabled: false`` needs nothing else: a disabled block missing required keys is dropped.

        A disabled block that is complete, or has another mistake, is still validated in full.
        """
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for system in REGISTRY:
            name, model = system.name, system.config
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
        for name, namespace, path in self.all_namespaces():
            if namespace in seen:
                raise KeyProblem(list(path), f"{namespace!r} is already the namespace of {seen[namespace]}")
            seen[namespace] = name
        return self

    @model_validator(mode="after")
    def _aws_rules(self) -> Self:
        aws = self.aws
        if aws is None or aws.efs is None:
            needs = [(name, BY_NAME[name].efs_need(self.system(name))) for name in self.enabled_systems()]
            missing = [
                KeyProblem([name, *need.path], need.message) for name, need in needs if need is not None
            ]
            if missing:
                raise KeyProblems(missing)
        for name in self.enabled_systems():
            BY_NAME[name].check(self.system(name), self)
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
            loads = BY_NAME[system].workloads(block)
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
            claims = BY_NAME[system].claims(block)
            if quota.persistent_volume_claims < claims:
                raise KeyProblem(
                    [system, "quota", "persistentVolumeClaims"],
                    f"{quota.persistent_volume_claims} is below the {claims} claim(s) the stack creates here",
                )
        return self

    def images(self) -> dict[str, str]:
        """Every image the stack runs, logical name -> upstream reference."""
        images: dict[str, str] = {}
        for name in self.enabled_systems():
            images.update(BY_NAME[name].images(self.system(name)))
        mirror = self.aws.mirror() if self.aws is not None else None
        if mirror is not None and mirror.copy_job is not None and any(needs_copy(r) for r in images.values()):
            images["skopeo"] = mirror.copy_job.copier_image
            images["aws-cli"] = mirror.copy_job.aws_cli_image
        return images

    def system(self, name: str) -> SystemConfig | None:
        """The enabled block of system ``name``, or None."""
        block: SystemConfig | None = getattr(self, name)
        return block if block is not None and block.enabled else None

    def namespace_of(self, name: str) -> str | None:
        block = self.system(name)
        if block is None:
            return None
        return block.namespace or f"{name}-{self.environment}"

    def enabled_systems(self) -> list[str]:
        return [name for name in SYSTEMS if self.system(name) is not None]

    def all_namespaces(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """Every namespace the stack creates: (whose, name, the key that sets it), systems first."""
        found: list[tuple[str, str, tuple[str, ...]]] = []
        for name in self.enabled_systems():
            namespace = self.namespace_of(name)
            assert namespace is not None
            found.append((name, namespace, (name, "namespace")))
        for name in self.enabled_systems():
            for side in BY_NAME[name].side_namespaces(self.system(name), self.environment):
                found.append((f"{name} ({side.resource_name})", side.name, (name, *side.path)))
        mirror = self.aws.mirror() if self.aws is not None else None
        if mirror is not None and mirror.copy_job is not None:
            namespace = mirror.copy_job.namespace or f"image-mirror-{self.environment}"
            found.append(("the image mirror", namespace, ("aws", "ecr", "copyJob", "namespace")))
        return found


def _stack_config() -> type[StackConfigBase]:
    """StackConfigBase plus one optional field per system of the registry, in registry order."""
    fields: dict[str, Any] = {
        system.name: (system.config | None, Field(default=None, description=system.description))
        for system in REGISTRY
    }
    return create_model("StackConfig", __base__=StackConfigBase, __module__=__name__, **fields)


if TYPE_CHECKING:
    StackConfig = StackConfigBase
else:
    StackConfig = _stack_config()
