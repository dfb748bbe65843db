"""Shared config building blocks: strict camelCase models, quantities, namespace guardrails."""

from typing import Annotated, Any, Literal, Self

from flow_platform import validation
from flow_platform.k8s import Quantity
from flow_platform.partek.flow_headnode import (
    DEFAULT_INGRESS_CLASS,
    DEFAULT_INGRESS_CONTROLLER_LABELS,
    DEFAULT_INGRESS_CONTROLLER_NAMESPACE,
)
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from ..errors import KeyProblem
from .rules import image_reference_problem

Environment = Literal["dev", "tst", "uat", "prd"]

# One set of rules for config and components: flow_platform.validation
DNS_LABEL = validation.DNS_LABEL
Cpu = Annotated[Quantity, PlainValidator(validation.cpu), PlainSerializer(str)]
Memory = Annotated[Quantity, PlainValidator(validation.memory), PlainSerializer(str)]


def _image_reference(value: str) -> str:
    validation.image_reference(value)
    problem = image_reference_problem(value)
    if problem:
        raise ValueError(problem)
    return value


ObjectName = Annotated[str, AfterValidator(validation.object_name)]
"""The name of a Kubernetes object the stack refers to (StorageClass, Secret, claim, issuer)."""
NamespaceName = Annotated[str, AfterValidator(validation.namespace_name)]
ImageReference = Annotated[str, AfterValidator(_image_reference)]
Storage = Memory
HOSTNAME = validation.HOSTNAME
IMAGE_TAG = validation.IMAGE_TAG


class Strict(BaseModel):
    """Base for every config block: camelCase keys, unknown keys rejected, immutable.

    Types are strict: ``true`` is not the integer 1 and ``4`` is not the string "4" (a YAML
    ``replicas: true`` must not become one replica). An empty string is never a value: it would pass
    "exactly one of" checks and then count as unset.
    """

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=False,
        frozen=True,
        arbitrary_types_allowed=True,
        strict=True,
        allow_inf_nan=False,
    )

    @model_validator(mode="before")
    @classmethod
    def _no_empty_strings(cls, data: Any) -> Any:
        if isinstance(data, dict):
            fields = {info.alias or name for name, info in cls.model_fields.items()}
            for key, value in data.items():
                if key in fields and isinstance(value, str) and not value.strip():
                    raise KeyProblem([key], "is empty: remove the key to leave it unset, or give it a value")
                if key in fields and isinstance(value, list):
                    for i, item in enumerate(value):
                        if isinstance(item, str) and not item.strip():
                            raise KeyProblem([key, i], "is empty: remove the item or give it a value")
        return data


def check_cidrs(value: list[str]) -> list[str]:
    for i, cidr in enumerate(value):
        try:
            validation.cidr(cidr)
        except ValueError as exc:
            raise KeyProblem([i], str(exc)) from None
    return sorted(value)


class Endpoint(Strict):
    """A named external endpoint a workload may reach (one egress NetworkPolicy): Partek's
    ``externalEndpoints``, openflow's ``dataEndpoints``."""

    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$")
    cidrs: list[str] = Field(min_length=1)
    ports: list[int] = Field(min_length=1)

    @field_validator("cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        return check_cidrs(value)

    @field_validator("ports")
    @classmethod
    def _ports(cls, value: list[int]) -> list[int]:
        for i, port in enumerate(value):
            try:
                validation.port(port)
            except ValueError as exc:
                raise KeyProblem([i], str(exc)) from None
        return value


class ApiServer(Strict):
    """Where the Kubernetes API server is, for NetworkPolicy egress of workloads that call it."""

    cidrs: list[str] = Field(min_length=1)
    port: int = Field(default=443, ge=1, le=65535)

    @field_validator("cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        return check_cidrs(value)


class IngressControllerConfig(Strict):
    """The cluster's ingress controller, which every system's Ingress and NetworkPolicy use."""

    class_name: ObjectName = DEFAULT_INGRESS_CLASS
    """The IngressClass every system's Ingress names."""
    namespace: NamespaceName = DEFAULT_INGRESS_CONTROLLER_NAMESPACE
    """Where its pods run (NetworkPolicy ingress from them to the UIs)."""
    pod_labels: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_INGRESS_CONTROLLER_LABELS))
    """Its pods' labels (NetworkPolicy peer)."""

    @field_validator("pod_labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("at least one label: an empty selector would admit every pod of the namespace")
        return value


class KubernetesConfig(Strict):
    """How the stack reaches its cluster: exactly one of a kubeconfig secret or a context."""

    context: str | None = None
    kubeconfig: SecretStr | None = None
    api_server: ApiServer
    ingress_controller: IngressControllerConfig = Field(default_factory=IngressControllerConfig)
    """Configured once for the cluster; defaults to ingress-nginx."""
    pod_security_version: str = Field(default="latest", pattern=validation.PSA_VERSION.pattern)

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.context is None) == (self.kubeconfig is None):
            raise KeyProblem(
                ["context"],
                "set exactly one of kubernetes.context (a kubeconfig context name) or "
                "kubernetes.kubeconfig (a secret), so a stack never deploys into whatever cluster is current",
            )
        return self


class CpuMemory(Strict):
    cpu: Cpu
    memory: Memory

    def as_dict(self) -> dict[str, str]:
        return {"cpu": str(self.cpu), "memory": str(self.memory)}


class MemoryLimit(Strict):
    memory: Memory
    cpu: Cpu | None = None
    """Only where asked for: CPU limits throttle JVM engines."""

    def as_dict(self) -> dict[str, str]:
        limits = {"memory": str(self.memory)}
        if self.cpu is not None:
            limits["cpu"] = str(self.cpu)
        return limits


class LimitsConfig(Strict):
    """The namespace LimitRange: defaults for request-only containers and a per-container max."""

    default_request: CpuMemory
    default_limit: MemoryLimit
    max: CpuMemory

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.default_request.memory > self.default_limit.memory:
            raise KeyProblem(
                ["defaultRequest", "memory"],
                f"{self.default_request.memory} is above defaultLimit.memory ({self.default_limit.memory})",
            )
        if self.default_limit.memory > self.max.memory:
            raise KeyProblem(
                ["defaultLimit", "memory"],
                f"{self.default_limit.memory} is above max.memory ({self.max.memory})",
            )
        if self.default_request.cpu > self.max.cpu:
            raise KeyProblem(
                ["defaultRequest", "cpu"], f"{self.default_request.cpu} is above max.cpu ({self.max.cpu})"
            )
        if self.default_limit.cpu is not None and self.default_limit.cpu > self.max.cpu:
            raise KeyProblem(
                ["defaultLimit", "cpu"], f"{self.default_limit.cpu} is above max.cpu ({self.max.cpu})"
            )
        return self


class QuotaConfig(Strict):
    """The namespace ResourceQuota."""

    requests_cpu: Cpu
    requests_memory: Memory
    limits_memory: Memory
    pods: int = Field(ge=1, le=10_000)
    persistent_volume_claims: int = Field(default=10, ge=0, le=1_000)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.requests_memory > self.limits_memory:
            raise KeyProblem(
                ["requestsMemory"], f"{self.requests_memory} is above limitsMemory ({self.limits_memory})"
            )
        return self

    def hard(self) -> dict[str, str]:
        return {
            "requests.cpu": str(self.requests_cpu),
            "requests.memory": str(self.requests_memory),
            "limits.memory": str(self.limits_memory),
            "pods": str(self.pods),
            "persistentvolumeclaims": str(self.persistent_volume_claims),
        }


class SystemConfig(Strict):
    """What every system block has: on/off, its namespace, and the namespace guardrails."""

    enabled: bool = True
    namespace: str | None = None
    """Defaults to ``<system>-<env>``."""
    limits: LimitsConfig
    quota: QuotaConfig

    @field_validator("namespace")
    @classmethod
    def _dns_label(cls, value: str | None) -> str | None:
        return None if value is None else validation.owned_namespace(value)

    @model_validator(mode="after")
    def _fits(self) -> Self:
        if self.limits.max.memory > self.quota.limits_memory:
            raise KeyProblem(
                ["limits", "max", "memory"],
                f"{self.limits.max.memory} is above quota.limitsMemory ({self.quota.limits_memory}): "
                "the largest container allowed could never be scheduled",
            )
        if self.limits.max.cpu > self.quota.requests_cpu:
            raise KeyProblem(
                ["limits", "max", "cpu"],
                f"{self.limits.max.cpu} is above quota.requestsCpu ({self.quota.requests_cpu})",
            )
        return self


class ImageConfig(Strict):
    """An image pinned by tag (never ``latest``) or digest."""

    repository: str = Field(pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$")
    tag: str
    digest: str | None = Field(default=None, pattern=r"^sha256:[0-9a-f]{64}$")

    @field_validator("tag")
    @classmethod
    def _pinned(cls, value: str) -> str:
        return validation.image_tag(value)

    @model_validator(mode="after")
    def _reference(self) -> Self:
        problem = image_reference_problem(self.ref())
        if problem:
            raise KeyProblem(["repository"], problem)
        return self

    def ref(self) -> str:
        return f"{self.repository}:{self.tag}" + (f"@{self.digest}" if self.digest else "")
