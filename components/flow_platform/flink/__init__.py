"""Apache Flink through the Flink Kubernetes Operator."""

from .configuration import (
    ARTIFACT_SCHEME_PORTS,
    FLINK_VERSIONS,
    JOB_STATES,
    OPERATOR_VERSION,
    SUPPORTED_FLINK_VERSIONS,
    UPGRADE_MODES,
    checkpoint_keys,
    flink_configuration,
    jar_uri_problem,
    job_role_rules,
    operator_values,
    pod_template,
    taskmanager_role_rules,
    wait_annotations,
)
from .flink_cluster import FlinkCluster, FlinkClusterArgs, JobSpec, ProcessSize, SessionJob, deployment_spec
from .flink_operator import FlinkOperator, FlinkOperatorArgs, operator_objects

__all__ = [
    "ARTIFACT_SCHEME_PORTS",
    "FLINK_VERSIONS",
    "JOB_STATES",
    "OPERATOR_VERSION",
    "SUPPORTED_FLINK_VERSIONS",
    "UPGRADE_MODES",
    "FlinkCluster",
    "FlinkClusterArgs",
    "FlinkOperator",
    "FlinkOperatorArgs",
    "JobSpec",
    "ProcessSize",
    "SessionJob",
    "checkpoint_keys",
    "deployment_spec",
    "flink_configuration",
    "jar_uri_problem",
    "job_role_rules",
    "operator_objects",
    "operator_values",
    "pod_template",
    "taskmanager_role_rules",
    "wait_annotations",
]
