"""Apache Flink through the Flink Kubernetes Operator."""

from .configuration import (
    FLINK_VERSIONS,
    JOB_STATES,
    OPERATOR_VERSION,
    UPGRADE_MODES,
    flink_configuration,
    job_role_rules,
    operator_values,
    pod_template,
)
from .flink_cluster import FlinkCluster, FlinkClusterArgs, JobSpec, ProcessSize, SessionJob, deployment_spec
from .flink_operator import FlinkOperator, FlinkOperatorArgs

__all__ = [
    "FLINK_VERSIONS",
    "JOB_STATES",
    "OPERATOR_VERSION",
    "UPGRADE_MODES",
    "FlinkCluster",
    "FlinkClusterArgs",
    "FlinkOperator",
    "FlinkOperatorArgs",
    "JobSpec",
    "ProcessSize",
    "SessionJob",
    "deployment_spec",
    "flink_configuration",
    "job_role_rules",
    "operator_values",
    "pod_template",
]
