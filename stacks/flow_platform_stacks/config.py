"""Typed stack configuration: everything a person writes in ``Pulumi.<env>.yaml``.

Keys are camelCase (Pulumi's convention); unknown keys are errors, never ignored. Kubernetes
quantities are parsed and compared by value. Secrets are ``SecretStr`` here and become
``pulumi.Output.secret`` values when they reach a component.
"""

import ipaddress
import re
from typing import Annotated, Any, Literal, Self

from flow_platform.k8s import QUANTITY_HELP, Quantity, QuantityError
from flow_platform.k8s.quantity import MIB
from flow_platform.partek import SizingError, catalina_opts, flexlm_license_problems, license_address_problems
from pydantic import (
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

from .errors import SECRET_MASK, KeyProblem

Environment = Literal["dev", "tst", "uat", "prd"]
SYSTEMS = ("partek", "flink", "hyperflow")
"""Systems an environment may run; each has a top-level config key of the same name."""

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def _cpu(value: Any) -> Quantity:
    try:
        quantity = Quantity.parse(value)
    except QuantityError:
        raise ValueError(f"expected {QUANTITY_HELP}") from None
    if quantity.value <= 0:
        raise ValueError("CPU must be greater than 0 (e.g. 250m or 2)")
    return quantity


def _memory(value: Any) -> Quantity:
    try:
        quantity = Quantity.parse(value)
    except QuantityError:
        raise ValueError(f"expected {QUANTITY_HELP}") from None
    if quantity.text.endswith("m"):
        raise ValueError("memory in millibytes is almost certainly a typo: use Mi or Gi (e.g. 512Mi)")
    if quantity.value < 4 * MIB:
        raise ValueError(f"{quantity.text} bytes is too small for memory: add a unit, e.g. {quantity.text}Gi")
    return quantity


Cpu = Annotated[Quantity, PlainValidator(_cpu), PlainSerializer(str)]
Memory = Annotated[Quantity, PlainValidator(_memory), PlainSerializer(str)]
Storage = Memory
HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$"
)
IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


class Strict(BaseModel):
    """Base for every config block: camelCase keys, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=False,
        frozen=True,
        arbitrary_types_allowed=True,
    )


def _check_cidrs(value: list[str]) -> list[str]:
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
        return _check_cidrs(value)


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


class ImageConfig(Strict):
    """An image pinned by tag (never ``latest``) or digest."""

    repository: str = Field(pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$")
    tag: str
    digest: str | None = Field(default=None, pattern=r"^sha256:[0-9a-f]{64}$")

    @field_validator("tag")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if not IMAGE_TAG.match(value):
            raise ValueError("an image tag is letters, digits, '_', '.' and '-' (at most 128)")
        if value == "latest":
            raise ValueError("'latest' is not a version: pin the tag you tested (e.g. 23.0809.22)")
        return value

    def ref(self) -> str:
        return f"{self.repository}:{self.tag}" + (f"@{self.digest}" if self.digest else "")


class Endpoint(Strict):
    """A named external endpoint a workload may reach (egress NetworkPolicy)."""

    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$")
    cidrs: list[str] = Field(min_length=1)
    ports: list[int] = Field(min_length=1)

    @field_validator("cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        return _check_cidrs(value)

    @field_validator("ports")
    @classmethod
    def _ports(cls, value: list[int]) -> list[int]:
        for i, port in enumerate(value):
            if not 1 <= port <= 65535:
                raise KeyProblem([i], f"port {port} is not between 1 and 65535")
        return value


LicenseMode = Literal["flexlm", "external", "file"]
_LICENSE_FIELDS: dict[str, tuple[str, ...]] = {
    "flexlm": ("text", "image", "storage_class"),
    "external": ("server", "cidrs"),
    "file": (),
}


class LicenseConfig(Strict):
    """How the headnode is licensed: an in-cluster FlexLM server, an external one, or a file."""

    mode: LicenseMode
    text: SecretStr | None = None
    """flexlm: the Partek.lic text, a secret (``pulumi config set --secret --path partek.license.text``)."""
    image: ImageConfig | None = None
    """flexlm: Partek's FlexLM server image."""
    storage_class: str | None = None
    """flexlm: StorageClass of the 10Gi license volume."""
    namespace: str | None = None
    """flexlm: the license server's own namespace (default ``partek-license-<env>``)."""
    service_name: str = Field(default="flexlmserver", pattern=r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
    server: str | None = None
    """external: ``@host`` or ``port@host``."""
    cidrs: list[str] = Field(default_factory=list)
    """external: the license server's addresses, for the headnode's egress rule."""

    @field_validator("cidrs")
    @classmethod
    def _cidrs_ok(cls, value: list[str]) -> list[str]:
        return _check_cidrs(value)

    @model_validator(mode="after")
    def _per_mode(self) -> Self:
        for field in _LICENSE_FIELDS[self.mode]:
            value = getattr(self, field)
            if value is None or value == []:
                alias = to_camel(field)
                raise KeyProblem([alias], f"required when mode is {self.mode!r}")
        for mode, fields in _LICENSE_FIELDS.items():
            if mode == self.mode:
                continue
            for field in fields:
                value = getattr(self, field)
                if value is not None and value != []:
                    raise KeyProblem([to_camel(field)], f"only applies to mode {mode!r}, not {self.mode!r}")
        if self.mode == "external" and self.server is not None:
            problems = license_address_problems(self.server)
            if problems:
                raise KeyProblem(["server"], "; ".join(problems))
        if self.mode == "flexlm" and self.text is not None:
            text = self.text.get_secret_value()
            # encrypted values cannot be read offline (render); the real CLI passes the plain text
            if text != SECRET_MASK:
                problems = flexlm_license_problems(text)
                if problems:
                    raise KeyProblem(["text"], "; ".join(problems))
        if self.namespace is not None and not DNS_LABEL.match(self.namespace):
            raise KeyProblem(["namespace"], "a namespace is a DNS label: lowercase letters, digits and '-'")
        return self


class HeadnodeConfig(Strict):
    """The Flow headnode's size and JVM mode."""

    mode: Literal["single-node", "distributed"]
    cpu: Cpu = Field(default_factory=lambda: Quantity.parse("8"))
    memory: Memory = Field(default_factory=lambda: Quantity.parse("16Gi"))
    memory_limit: Memory | None = None
    worker_memory_mb: int = Field(default=1024, ge=256)
    worker_cores: int = Field(default=2, ge=1)
    extra_jvm_options: list[str] = Field(default_factory=list)
    ca_certs: SecretStr | None = None
    """Base64 Java truststore for LDAP over TLS (``base64 -w0 cacerts``), a secret."""
    external_endpoints: list[Endpoint] = Field(default_factory=list)

    @model_validator(mode="after")
    def _fits(self) -> Self:
        if self.memory_limit is not None and self.memory_limit < self.memory:
            raise KeyProblem(
                ["memoryLimit"], f"{self.memory_limit} is below the request memory ({self.memory})"
            )
        try:
            catalina_opts(
                self.memory,
                self.mode,
                self.worker_memory_mb,
                self.worker_cores,
                truststore=self.ca_certs is not None,
                extra=self.extra_jvm_options,
            )
        except SizingError as error:
            key = "extraJvmOptions" if "extra JVM option" in str(error) else "memory"
            raise KeyProblem([key], str(error)) from None
        return self


class HomeConfig(Strict):
    """The ReadWriteMany /home/flow volume: an existing claim, or one created here."""

    claim_name: str | None = None
    storage_class: str | None = None
    size: Storage = Field(default_factory=lambda: Quantity.parse("500Gi"))

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.claim_name is None) == (self.storage_class is None):
            raise KeyProblem(
                ["claimName"],
                "set exactly one of claimName (an existing ReadWriteMany claim) or"
                " storageClass (a ReadWriteMany class such as efs-sc, to create the claim)",
            )
        return self


class IngressConfig(Strict):
    """HTTPS access to the web UI."""

    host: str
    class_name: str = "nginx"
    tls_secret: str | None = None
    cluster_issuer: str | None = None
    controller_namespace: str = "ingress-nginx"
    controller_labels: dict[str, str] = Field(
        default_factory=lambda: {"app.kubernetes.io/name": "ingress-nginx"}
    )

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not HOSTNAME.match(value):
            raise ValueError("a lowercase DNS host name such as flow.dev-devsvc.example.com")
        return value

    @model_validator(mode="after")
    def _tls(self) -> Self:
        if (self.tls_secret is None) == (self.cluster_issuer is None):
            raise KeyProblem(
                ["tlsSecret"], "set exactly one of tlsSecret or clusterIssuer: the UI is HTTPS only"
            )
        return self


class WorkersConfig(Strict):
    """Remote Flow workers."""

    replicas: int = Field(ge=0, le=200)
    cpu: Cpu
    memory: Memory
    memory_limit: Memory | None = None
    command: list[str] | None = None
    args: list[str] | None = None
    env: dict[str, str] = Field(default_factory=dict)


class PartekConfig(SystemConfig):
    """Partek Flow: image, license, headnode, /home/flow, ingress and workers."""

    image: ImageConfig
    license: LicenseConfig
    headnode: HeadnodeConfig
    home: HomeConfig
    ingress: IngressConfig
    workers: WorkersConfig | None = None

    @model_validator(mode="after")
    def _sizes(self) -> Self:
        head = self.headnode
        if head.mode == "single-node" and self.workers is not None and self.workers.replicas > 0:
            raise KeyProblem(
                ["workers", "replicas"],
                "single-node runs every job on the headnode: use 0 workers or headnode.mode distributed",
            )
        pods: list[tuple[list[str], Quantity, Quantity, int]] = [(["headnode"], head.cpu, head.memory, 1)]
        if self.workers is not None:
            pods.append((["workers"], self.workers.cpu, self.workers.memory, self.workers.replicas))
        for path, cpu, memory, _ in pods:
            if memory > self.limits.max.memory:
                raise KeyProblem(
                    [*path, "memory"], f"{memory} is above limits.max.memory ({self.limits.max.memory})"
                )
            if cpu > self.limits.max.cpu:
                raise KeyProblem([*path, "cpu"], f"{cpu} is above limits.max.cpu ({self.limits.max.cpu})")
        total_cpu = sum((cpu.value * n for _, cpu, _, n in pods), start=Quantity.parse("0").value)
        total_memory = sum((memory.value * n for _, _, memory, n in pods), start=Quantity.parse("0").value)
        if total_cpu > self.quota.requests_cpu.value:
            raise KeyProblem(
                ["quota", "requestsCpu"],
                f"the headnode and workers request {total_cpu} CPUs,"
                f" more than the quota's {self.quota.requests_cpu}",
            )
        if total_memory > self.quota.requests_memory.value:
            raise KeyProblem(
                ["quota", "requestsMemory"],
                f"the headnode and workers request"
                f" {total_memory / 2**30:.0f}Gi, more than the quota's {self.quota.requests_memory}",
            )
        return self

    def license_namespace(self, env: str) -> str:
        return self.license.namespace or f"partek-license-{env}"


class StackConfig(Strict):
    """The whole ``flow-platform:`` namespace of one stack."""

    environment: Environment
    protect: bool = False
    """Protect stateful resources (namespaces, volumes, file systems, license storage); required in prd."""
    kubernetes: KubernetesConfig
    partek: PartekConfig | None = None
    flink: SystemConfig | None = None
    hyperflow: SystemConfig | None = None

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
