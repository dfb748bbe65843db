"""The ``monitoring`` block: the two NFRs (pod restarts, workloads meeting the recommended ulimit).

The measured namespaces are not listed here: they are those of the enabled systems that declare NFR
monitoring (``System.nfr_monitoring``: openflow and EventFlow), so a new system's namespace is covered
by setting one flag, and a disabled system's namespace is never measured. With none of them enabled
there is nothing to measure: no rule is deployed (disabling openflow stays one switch), and
``flow-platform nfr`` says so.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Literal, Self
from urllib.parse import urlsplit

from flow_platform import validation
from flow_platform.monitoring import (
    DEFAULT_MAX_RESTARTS,
    DEFAULT_MIN_ULIMIT_PERCENT,
    DEFAULT_ULIMIT_THRESHOLD,
)
from flow_platform.monitoring.nfr_rules import DEFAULT_RULE_LABELS, READER_GROUP, broad_subject_problem
from flow_platform.monitoring.promql import MAX_ULIMIT_THRESHOLD
from pydantic import AfterValidator, Field, field_validator, model_validator

from ..errors import KeyProblem
from .base import NamespaceName, Strict

if TYPE_CHECKING:
    from .stack import StackConfigBase as StackConfig


def _labels(value: dict[str, str]) -> dict[str, str]:
    return validation.labels(value)


class Reader(Strict):
    """Who may read pods for ``flow-platform nfr`` (bound to a read-only Role in each namespace)."""

    kind: Literal["Group", "User", "ServiceAccount"]
    name: str = Field(min_length=1)
    namespace: NamespaceName | None = None
    """The service account's namespace (``ServiceAccount`` only)."""

    @model_validator(mode="after")
    def _namespace(self) -> Self:
        if self.kind == "ServiceAccount" and self.namespace is None:
            raise KeyProblem(["namespace"], "required for a ServiceAccount: the namespace it lives in")
        if self.kind != "ServiceAccount" and self.namespace is not None:
            raise KeyProblem(["namespace"], f"only a ServiceAccount has a namespace, not a {self.kind}")
        problem = broad_subject_problem(self.kind, self.name)
        if problem:
            raise KeyProblem(["name"], problem)
        return self

    def as_args(self) -> dict[str, str]:
        args = {"kind": self.kind, "name": self.name}
        if self.namespace is not None:
            args["namespace"] = self.namespace
        return args


class Targets(Strict):
    """What each NFR must meet, per namespace; `flow-platform nfr` exits 1 when one is missed."""

    max_restarts: int = Field(default=DEFAULT_MAX_RESTARTS, ge=0)
    """Container restarts plus failed pods a namespace may show."""
    min_ulimit_percent: float = Field(default=DEFAULT_MIN_ULIMIT_PERCENT, ge=0, le=100)
    """Share of workloads (0-100) whose every container has the soft nofile of ulimitThreshold."""


def prometheus_url(value: str) -> str:
    """An http(s) URL of a Prometheus HTTP API (without query or fragment), without trailing slash."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(
            f"{value!r} is not a Prometheus URL: http(s)://host[:port][/path], such as"
            " http://localhost:9090 (kubectl port-forward) or https://prometheus.example.com"
        )
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError(f"{value!r} has an invalid port") from None
    return value.rstrip("/")


class MonitoringConfig(Strict):
    """Deploy the NFR rules (a PrometheusRule for kube-prometheus-stack) and the pod reader Roles."""

    enabled: bool = True
    rule_namespace: NamespaceName | None = None
    """Where the PrometheusRule lives; default: the first measured namespace."""
    rule_labels: Annotated[dict[str, str], AfterValidator(_labels)] = Field(
        default_factory=lambda: dict(DEFAULT_RULE_LABELS)
    )
    """The labels kube-prometheus-stack's rule selector matches (``release: <its release name>``)."""
    ulimit_threshold: int = Field(default=DEFAULT_ULIMIT_THRESHOLD, ge=1, le=MAX_ULIMIT_THRESHOLD)
    """Soft nofile every container needs (or unlimited); our default 65536 is the EKS node default."""
    targets: Targets = Field(default_factory=Targets)
    prometheus_url: str | None = None
    """Where ``flow-platform nfr`` reads the ulimit NFR (Prometheus HTTP API); --prometheus-url overrides."""
    readers: list[Reader] = Field(
        default_factory=lambda: [Reader.model_validate({"kind": "Group", "name": READER_GROUP})], min_length=1
    )

    @field_validator("prometheus_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else prometheus_url(value)


def nfr_systems() -> list[str]:
    """Names of the systems whose namespaces the NFRs cover, in deployment order."""
    from ..systems import REGISTRY  # here: the systems' config modules import this package

    return [system.name for system in REGISTRY if system.nfr_monitoring]


def nfr_namespaces(stack: "StackConfig", systems: Sequence[str] | None = None) -> list[str]:
    """The namespaces of the enabled systems among ``systems`` (default :func:`nfr_systems`)."""
    namespaces = []
    for name in nfr_systems() if systems is None else systems:
        namespace = stack.namespace_of(name)
        if namespace is not None:
            namespaces.append(namespace)
    return namespaces
