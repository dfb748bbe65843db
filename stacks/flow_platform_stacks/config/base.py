"""Shared config building blocks: strict camelCase models, quantities, namespace guardrails."""

import ipaddress
import re
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from flow_platform.k8s import QUANTITY_HELP, Quantity, QuantityError
from flow_platform.k8s.quantity import MIB
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
from .rules import dns_label_problem, dns_subdomain_problem, image_reference_problem

Environment = Literal["dev", "tst", "uat", "prd"]
SYSTEMS = ("partek", "flink", "hyperflow")
"""Systems an environment may run; each has a top-level config key of the same name."""

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


QUANTITY_MAX = Decimal(2**63 - 1)
"""Kubernetes stores a quantity as int64 (milli-units for CPU): no quantity may exceed 2^63-1."""


def _quantity(value: Any) -> Quantity:
    """A quantity the API server can hold: at most 2^63-1 and no finer than a thousandth."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"expected {QUANTITY_HELP}")
    try:
        quantity = Quantity.parse(value)
    except QuantityError:
        raise ValueError(f"expected {QUANTITY_HELP}") from None
    except ArithmeticError:
        raise ValueError("is larger than Kubernetes can store (2^63-1): use a realistic size") from None
    try:
        too_big = abs(quantity.value) > QUANTITY_MAX
        too_fine = not too_big and (quantity.value * 1000) % 1 != 0
    except ArithmeticError:
        too_big, too_fine = True, False
    if too_big:
        raise ValueError("is larger than Kubernetes can store (2^63-1): use a realistic size such as 16Gi")
    if too_fine:
        raise ValueError("is finer than a thousandth (1m), which Kubernetes rounds up: write e.g. 100m")
    return quantity


def _cpu(value: Any) -> Quantity:
    quantity = _quantity(value)
    if quantity.value * 1000 > QUANTITY_MAX:
        raise ValueError("is larger than Kubernetes can store for CPU (in thousandths): use e.g. 2 or 500m")
    if quantity.value <= 0:
        raise ValueError("CPU must be greater than 0 (e.g. 250m or 2)")
    return quantity


def _memory(value: Any) -> Quantity:
    quantity = _quantity(value)
    if quantity.text.endswith("m"):
        raise ValueError("memory in millibytes is almost certainly a typo: use Mi or Gi (e.g. 512Mi)")
    if quantity.value < 4 * MIB:
        raise ValueError(f"{quantity.text} bytes is too small for memory: add a unit, e.g. {quantity.text}Gi")
    return quantity


def _object_name(value: str) -> str:
    problem = dns_subdomain_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _dns_label(value: str) -> str:
    problem = dns_label_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _image_reference(value: str) -> str:
    problem = image_reference_problem(value)
    if problem:
        raise ValueError(problem)
    return value


ObjectName = Annotated[str, AfterValidator(_object_name)]
"""The name of a Kubernetes object the stack refers to (StorageClass, Secret, claim, issuer)."""
NamespaceName = Annotated[str, AfterValidator(_dns_label)]
ImageReference = Annotated[str, AfterValidator(_image_reference)]
Cpu = Annotated[Quantity, PlainValidator(_cpu), PlainSerializer(str)]
Memory = Annotated[Quantity, PlainValidator(_memory), PlainSerializer(str)]
Storage = Memory
HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$"
)
IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


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
        return data


def check_cidrs(value: list[str]) -> list[str]:
    for i, cidr in enumerate(value):
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            raise KeyProblem([i], f"{cidr!r} is not a CIDR block such as 10.0.0.0/16") from None
        if network.prefixlen == 0:
            raise KeyProblem([i], f"{cidr!r} opens egress to everything: name the exact range")
    return sorted(value)


class ApiServer(Strict):
    """Where the Kubernetes API server is, for NetworkPolicy egress of workloads that call it."""

    cidrs: list[str] = Field(min_length=1)
    port: int = Field(default=443, ge=1, le=65535)

    @field_validator("cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        return check_cidrs(value)


class KubernetesConfig(Strict):
    """How the stack reaches its cluster: exactly one of a kubeconfig secret or a context."""

    context: str | None = None
    kubeconfig: SecretStr | None = None
    api_server: ApiServer
    pod_security_version: str = Field(default="latest", pattern=r"^(latest|v1\.\d{1,2})$")

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
        if value is not None and not DNS_LABEL.match(value):
            raise ValueError("a namespace is a DNS label: lowercase letters, digits and '-', at most 63")
        if value in ("default", "kube-system", "kube-public", "kube-node-lease"):
            raise ValueError(f"{value!r} is a system namespace; give the system its own")
        return value

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
