"""The ``flow-platform:eventflow`` block: one EventFlow application cluster and its monitor."""

from typing import Self

from flow_platform.eventflow import node_memory_limit, services_needed
from flow_platform.eventflow.eventflow_cluster import (
    DEFAULT_CLIENT_PORTS,
    DEFAULT_CPU,
    DEFAULT_MEMORY,
    DEFAULT_NODE_STORAGE,
    DEFAULT_REPLICAS,
    DEFAULT_SHARED_MEMORY,
    DEFAULT_STARTUP_SECONDS,
    MONITOR_DEFAULT_CPU,
    MONITOR_DEFAULT_MEMORY,
    MONITOR_DEFAULT_SHARED_MEMORY,
    config_file_name,
    credential,
)
from flow_platform.eventflow.nodes import NODE_UID
from flow_platform.k8s import Quantity
from flow_platform.validation import DNS_LABEL, LABEL_KEY, LABEL_VALUE, hostname
from pydantic import Field, SecretStr, field_validator, model_validator

from ...config.base import (
    Cpu,
    ImageConfig,
    Memory,
    NamespaceName,
    ObjectName,
    QuotaConfig,
    Storage,
    Strict,
    SystemConfig,
)
from ...errors import SECRET_MASK, KeyProblem

MAX_REPLICAS = 50
"""Far above any EventFlow cluster we run; a typo such as 300 is refused instead of scheduled."""


def _secret_problem(value: SecretStr, what: str) -> str | None:
    text = value.get_secret_value()
    if text == SECRET_MASK:  # encrypted values cannot be read offline (render); the CLI passes plain text
        return None
    try:
        credential(text)
    except ValueError as error:
        return f"{what}: {error}"
    return None


class AdminConfig(Strict):
    """The admin user each node is installed with (the sample hard-codes tibco/tibco)."""

    username: str
    password: SecretStr
    """A secret: ``pulumi config set --secret --path eventflow.admin.password ...``."""

    @model_validator(mode="after")
    def _usable(self) -> Self:
        problem = _secret_problem(SecretStr(self.username), "the user name")
        if problem:
            raise KeyProblem(["username"], problem)
        problem = _secret_problem(self.password, "the password")
        if problem:
            raise KeyProblem(["password"], problem)
        if self.password.get_secret_value() != SECRET_MASK and len(self.password.get_secret_value()) < 12:
            raise KeyProblem(
                ["password"],
                "at least 12 characters; e.g. pulumi config set --secret --path eventflow.admin.password"
                ' "$(openssl rand -hex 16)"',
            )
        return self


class NodePortsConfig(Strict):
    """A pinned node-to-node port range (the node configuration pins its listeners into it)."""

    start: int = Field(ge=1, le=65535)
    end: int = Field(ge=1, le=65535)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.start > self.end:
            raise KeyProblem(["end"], f"{self.end} is below start ({self.start}): the range is empty")
        return self


class ClientConfig(Strict):
    """Pods allowed to reach the nodes' client ports."""

    namespace: NamespaceName
    pod_labels: dict[str, str] | None = None
    """Default: every pod of the namespace."""

    @field_validator("pod_labels")
    @classmethod
    def _labels(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        if not value:
            raise KeyProblem([], "is empty: remove the key to allow every pod of the namespace")
        for key, item in value.items():
            if not LABEL_KEY.match(key):
                raise KeyProblem([key], "is not a label key (prefix/name, name at most 63 characters)")
            if not item or not LABEL_VALUE.match(item):
                raise KeyProblem(
                    [key], f"{item!r} is not a label value (1-63 letters, digits, '-', '_', '.')"
                )
        return value


class MonitorConfig(Strict):
    """The cluster monitor (LiveView web on 11080): ClusterIP, and an HTTPS Ingress with a host."""

    image: ImageConfig
    cpu: Cpu = Field(default_factory=lambda: Quantity.parse(MONITOR_DEFAULT_CPU))
    memory: Memory = Field(default_factory=lambda: Quantity.parse(MONITOR_DEFAULT_MEMORY))
    shared_memory: Memory = Field(default_factory=lambda: Quantity.parse(MONITOR_DEFAULT_SHARED_MEMORY))
    ingress_host: str | None = None
    tls_secret: ObjectName | None = None
    cluster_issuer: ObjectName | None = None

    @field_validator("ingress_host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        return None if value is None else hostname(value)

    @model_validator(mode="after")
    def _ingress(self) -> Self:
        for key, value in (("tlsSecret", self.tls_secret), ("clusterIssuer", self.cluster_issuer)):
            if value is not None and self.ingress_host is None:
                raise KeyProblem([key], "only applies with ingressHost (the monitor's Ingress)")
        return self

    def total_memory(self) -> Quantity:
        return Quantity.parse(node_memory_limit(str(self.memory), str(self.shared_memory)))


class EventFlowQuotaConfig(QuotaConfig):
    """The namespace quota, with ``services``: each node creates its discovery Service at run time."""

    services: int = Field(ge=1, le=1_000)

    def hard(self) -> dict[str, str]:
        return dict(sorted({**super().hard(), "services": str(self.services)}.items()))


class EventFlowConfig(SystemConfig):
    """One EventFlow application: its nodes (a StatefulSet) and optionally the cluster monitor."""

    quota: EventFlowQuotaConfig
    app_name: str
    """StatefulSet, governing Service and ``APPNAME``; part of each node's discovery Service name."""
    image: ImageConfig
    """The application image (the customer's registry; pulled through the ECR mirror)."""
    replicas: int = Field(default=DEFAULT_REPLICAS, ge=1, le=MAX_REPLICAS)
    node_uid: int = Field(default=NODE_UID, ge=1, le=2_147_483_647)
    cpu: Cpu = Field(default_factory=lambda: Quantity.parse(DEFAULT_CPU))
    cpu_limit: Cpu | None = None
    memory: Memory = Field(default_factory=lambda: Quantity.parse(DEFAULT_MEMORY))
    shared_memory: Memory = Field(default_factory=lambda: Quantity.parse(DEFAULT_SHARED_MEMORY))
    node_storage: Storage = Field(default_factory=lambda: Quantity.parse(DEFAULT_NODE_STORAGE))
    admin: AdminConfig
    keystore_password: SecretStr | None = None
    configuration: dict[str, str] = Field(default_factory=dict)
    node_deploy: str | None = None
    resources: dict[str, str] = Field(default_factory=dict)
    health_credentials: bool = False
    startup_seconds: int = Field(default=DEFAULT_STARTUP_SECONDS, ge=30, le=3600)
    node_ports: NodePortsConfig | None = None
    clients: list[ClientConfig] = Field(default_factory=list)
    client_ports: list[int] = Field(default_factory=lambda: list(DEFAULT_CLIENT_PORTS), min_length=1)
    monitor: MonitorConfig | None = None
    zone_spread: bool | None = None
    """Default: on in prd, off elsewhere."""

    @field_validator("app_name")
    @classmethod
    def _app_name(cls, value: str) -> str:
        if not DNS_LABEL.match(value) or not value[:1].isalpha():
            raise ValueError(
                f"{value!r} is not an application name: lowercase letters, digits and '-', starting with a "
                "letter (it names the StatefulSet, its Service and each node's discovery Service)"
            )
        return value

    @field_validator("configuration", "resources")
    @classmethod
    def _file_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            try:
                config_file_name(name)
            except ValueError as error:
                raise KeyProblem([name], str(error)) from None
        return value

    @field_validator("client_ports")
    @classmethod
    def _ports(cls, value: list[int]) -> list[int]:
        for i, port in enumerate(value):
            if not 1 <= port <= 65535:
                raise KeyProblem([i], f"port {port} is not between 1 and 65535")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.node_deploy is not None and self.node_deploy not in self.configuration:
            files = ", ".join(sorted(self.configuration)) or "none"
            raise KeyProblem(
                ["nodeDeploy"], f"{self.node_deploy!r} is not a file of configuration (files: {files})"
            )
        if self.cpu_limit is not None and self.cpu_limit < self.cpu:
            raise KeyProblem(["cpuLimit"], f"{self.cpu_limit} is below the request cpu ({self.cpu})")
        if self.keystore_password is not None:
            secret = self.keystore_password.get_secret_value()
            if secret != SECRET_MASK and any(c.isspace() or c in "\"'\\" for c in secret):
                raise KeyProblem(
                    ["keystorePassword"],
                    "no whitespace, quotes or backslash (it is passed as --keystorepassword=)",
                )
        total = self.total_memory()
        if total > self.limits.max.memory:
            raise KeyProblem(
                ["memory"],
                f"memory ({self.memory}) + sharedMemory ({self.shared_memory}) = {total} is above "
                f"limits.max.memory ({self.limits.max.memory}): System V shared memory counts against the "
                "container's memory limit",
            )
        monitor = self.monitor is not None
        needed = services_needed(self.replicas, monitor)
        if self.quota.services < needed:
            raise KeyProblem(
                ["quota", "services"],
                f"{self.quota.services} is below the {needed} Services this block needs: "
                "the governing Service"
                + (" and the monitor's" if monitor else "")
                + f", and one discovery Service per node ({self.replicas})"
                + (" and for the monitor" if monitor else "")
                + " that the nodes create at run time",
            )
        return self

    def total_memory(self) -> Quantity:
        """The node container's memory request and limit: memory plus shared memory."""
        return Quantity.parse(node_memory_limit(str(self.memory), str(self.shared_memory)))

    def images(self) -> dict[str, str]:
        images = {"eventflow-node": self.image.ref()}
        if self.monitor is not None:
            images["eventflow-monitor"] = self.monitor.image.ref()
        return images
