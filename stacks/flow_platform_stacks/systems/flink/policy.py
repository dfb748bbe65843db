"""Flink's pre-approved policy exceptions: its operator and its FlinkDeployment in this stack."""

from flow_platform.flink.operator_chart import CHART_NAME

from ..base import PolicyException
from .config import FlinkConfig
from .deploy import operator_namespace_of

OPERATOR_ROLE = "flink-operator"
"""The chart's Role in the watched namespace (named after the release)."""


def policy_exceptions(block: FlinkConfig, env: str, namespace: str) -> list[PolicyException]:
    operator_ns = operator_namespace_of(block, env)
    return [
        PolicyException(
            "read-only-root-filesystem",
            operator_ns,
            CHART_NAME,
            ("writable-root",),
            "the JVM writes temporary files to /tmp; a read-only root with a /tmp volume is not yet"
            " verified against a running 1.15.0 operator",
        ),
        PolicyException(
            "service-account-token",
            namespace,
            block.cluster.name,
            ("service-account-token",),
            "the JobManager keeps Kubernetes HA state in ConfigMaps and starts its TaskManagers through"
            " the API server; under HA the TaskManagers watch the leader ConfigMaps (read only)",
        ),
        PolicyException(
            "service-account-token",
            operator_ns,
            CHART_NAME,
            ("service-account-token",),
            "the Flink operator watches and reconciles Flink resources, pods and deployments through the"
            " API server (Roles in its own and its Flink namespace only)",
        ),
        PolicyException(
            "rbac-rules",
            namespace,
            OPERATOR_ROLE,
            ("rbac:secrets",),
            "the Flink operator chart 1.15.0's Role (rbac/_helpers.tpl): the operator reads and writes"
            " Secrets of its FlinkDeployments (TLS, Kerberos, pod secrets); namespaced to this Flink"
            " namespace",
        ),
    ]
