"""The ``flow-platform:partek`` block: image, license, headnode, /home/flow, ingress, workers."""

from typing import Any, Literal, Self

from flow_platform.k8s import Quantity
from flow_platform.partek import (
    HOME_NOMINAL_CAPACITY,
    SizingError,
    catalina_opts,
    flexlm_license_problems,
    license_address_problems,
)
from flow_platform.partek import flexlm_server as license_defaults
from flow_platform.partek import flow_headnode as headnode_defaults
from flow_platform.partek import flow_workers as workers_defaults
from pydantic import Field, SecretStr, field_validator, model_validator

from ...config.base import (
    DNS_LABEL,
    HOSTNAME,
    Cpu,
    Endpoint,
    ImageConfig,
    Memory,
    ObjectName,
    Storage,
    Strict,
    SystemConfig,
    check_cidrs,
)
from ...config.rules import check_mode_fields
from ...errors import SECRET_MASK, KeyProblem

DEFAULT_HOME_SIZE = "500Gi"
PARTEK_REGISTRY = "registry.partek.com"
"""Partek's private registry: pulling from it needs credentials."""

LicenseMode = Literal["flexlm", "external", "file"]
LICENSE_FIELDS: dict[str, tuple[str, ...]] = {
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
    storage_class: ObjectName | None = None
    """flexlm: StorageClass of the 10Gi license volume."""
    namespace: str | None = None
    """flexlm: the license server's own namespace (default ``partek-license-<env>``)."""
    service_name: str = Field(
        default=license_defaults.DEFAULT_SERVICE_NAME, pattern=r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
    )
    server: str | None = None
    """external: ``@host`` or ``port@host``."""
    cidrs: list[str] = Field(default_factory=list)
    """external: the license server's addresses, for the headnode's egress rule."""

    @field_validator("cidrs")
    @classmethod
    def _cidrs_ok(cls, value: list[str]) -> list[str]:
        return check_cidrs(value)

    @model_validator(mode="after")
    def _per_mode(self) -> Self:
        check_mode_fields(self, self.mode, LICENSE_FIELDS)
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
    worker_memory_mb: int = Field(default=headnode_defaults.DEFAULT_WORKER_MEMORY_MB, ge=256)
    worker_cores: int = Field(default=headnode_defaults.DEFAULT_WORKER_CORES, ge=1)
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
                memory_limit=self.memory_limit,
            )
        except SizingError as error:
            key = "extraJvmOptions" if "extra JVM option" in str(error) else "memory"
            raise KeyProblem([key], str(error)) from None
        return self


class HomeConfig(Strict):
    """The ReadWriteMany /home/flow volume: EFS, a claim created with a StorageClass, or your claim."""

    efs: bool = False
    """Create an EFS file system for it (needs ``aws.efs``)."""
    claim_name: ObjectName | None = None
    storage_class: ObjectName | None = None
    size: Storage | None = None
    """storageClass only (default 500Gi): growing it is a volume expansion (the class must allow it)."""

    @model_validator(mode="after")
    def _one(self) -> Self:
        if [self.efs, self.claim_name is not None, self.storage_class is not None].count(True) != 1:
            raise KeyProblem(
                ["efs"],
                "set exactly one of efs: true (an EFS file system, see aws.efs), storageClass (a"
                " ReadWriteMany class, to create the claim) or claimName (an existing ReadWriteMany claim)",
            )
        problem = home_size_problem(self.efs, self.claim_name is not None, self.size is not None)
        if problem:
            raise KeyProblem(["size"], problem)
        return self

    def claim_size(self) -> str:
        """The claim's ``requests.storage``: fixed for the static EFS claim, else ``size``."""
        if self.efs:
            return HOME_NOMINAL_CAPACITY
        return str(self.size) if self.size is not None else DEFAULT_HOME_SIZE


def home_size_problem(efs: bool, own_claim: bool, size_set: bool) -> str | None:
    """Why ``home.size`` may not (or must) be set for this kind of volume.

    The EFS claim is statically bound (``storageClassName: ""``): Kubernetes' PersistentVolumeClaimResize
    admission refuses to grow a claim without a StorageClass that allows expansion
    (plugin/pkg/admission/storage/persistentvolume/resize), so a size there could never change. EFS
    is elastic anyway; the claim carries a fixed nominal capacity instead.
    """
    if efs and size_set:
        return (
            f"not used with efs: true: EFS is elastic and its static claim keeps a fixed nominal"
            f" {HOME_NOMINAL_CAPACITY} (Kubernetes refuses to resize a claim without a StorageClass);"
            " remove home.size"
        )
    if own_claim and size_set:
        return "not used with claimName: the existing claim's size is its own; remove home.size"
    return None


MOVED_TO_KUBERNETES = {
    "className": "className",
    "controllerNamespace": "namespace",
    "controllerLabels": "podLabels",
}
"""Former partek.ingress keys, now kubernetes.ingressController's."""


class IngressConfig(Strict):
    """HTTPS access to the web UI."""

    host: str
    tls_secret: ObjectName | None = None
    cluster_issuer: ObjectName | None = None
    acme_challenge: Literal["http-01", "dns-01", "none"] | None = None
    """With clusterIssuer: how it proves the host. ``http-01`` opens the ingress controller -> solver
    pod rule (port 8089) in the Flow namespace; ``dns-01`` and ``none`` (a non-ACME issuer) need no rule."""

    @model_validator(mode="before")
    @classmethod
    def _moved(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for old, new in MOVED_TO_KUBERNETES.items():
                if old in data:
                    raise KeyProblem(
                        [old],
                        f"moved to kubernetes.ingressController.{new}: the cluster's ingress controller is"
                        " configured once, for every system",
                    )
        return data

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
        if self.cluster_issuer is not None and self.acme_challenge is None:
            raise KeyProblem(
                ["acmeChallenge"],
                "required with clusterIssuer: http-01 (the namespace then admits cert-manager's solver pods"
                " on 8089 from the ingress controller), dns-01, or none for a non-ACME issuer",
            )
        if self.cluster_issuer is None and self.acme_challenge is not None:
            raise KeyProblem(["acmeChallenge"], "only applies with clusterIssuer")
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
    port: int = Field(default=headnode_defaults.WORKER_PORT, ge=1024, le=65535)
    """The worker's pinned Akka port; the headnode connects back to it."""
    termination_grace_period_seconds: int = Field(
        default=workers_defaults.DEFAULT_TERMINATION_GRACE_SECONDS, ge=30, le=86_400
    )
    """How long a stopping worker may finish its running task before it is killed."""


class PullAuth(Strict):
    """Credentials for pulling Partek's images straight from their registry (no mirror)."""

    username: str = Field(min_length=1)
    password: SecretStr
    """A secret: ``pulumi config set --secret --path partek.imagePullAuth.password``."""


class PartekConfig(SystemConfig):
    """Partek Flow: image, license, headnode, /home/flow, ingress and workers."""

    image: ImageConfig
    license: LicenseConfig
    headnode: HeadnodeConfig
    home: HomeConfig
    ingress: IngressConfig
    workers: WorkersConfig | None = None
    image_pull_auth: PullAuth | None = None
    """Registry credentials when the image is pulled upstream (the ECR mirror disabled)."""

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

    def pull_auth_problem(self, mirrored: bool) -> str | None:
        """Whether ``imagePullAuth`` is missing or pointless, given where images come from."""
        registry = self.image.repository.split("/", 1)[0]
        if mirrored and self.image_pull_auth is not None:
            return (
                "not used: the ECR mirror serves the images to the nodes (its copy job reads the"
                " upstream with aws.ecr.copyJob.sourceAuth); remove partek.imagePullAuth"
            )
        if not mirrored and registry == PARTEK_REGISTRY and self.image_pull_auth is None:
            return (
                f"required: the ECR mirror is off, so nodes pull {registry} directly and it needs"
                " credentials: set imagePullAuth.username and, as a secret, imagePullAuth.password"
                " (or enable aws.ecr)"
            )
        return None

    def license_namespace(self, env: str) -> str:
        return self.license.namespace or f"partek-license-{env}"

    def images(self) -> dict[str, str]:
        """Logical image name -> upstream reference, for the mirror."""
        images = {"partek-flow": self.image.ref()}
        if self.license.mode == "flexlm" and self.license.image is not None:
            images["flexlm"] = self.license.image.ref()
        return images
