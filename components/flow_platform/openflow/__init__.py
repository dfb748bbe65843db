"""openflow: Spark-style driver/executor applications on Kubernetes: the spark-submit environment
(OpenflowSubmitEnvironment) and the kubeflow spark-operator with its application CRs, sharing Spark's
facts (``spark.py``) and the restricted pod templates (``pod_templates.py``)."""

from .openflow_application import (
    ApplicationType,
    OpenflowApplication,
    OpenflowApplicationArgs,
    SparkExecutors,
    SparkProcess,
    application_spec,
    spark_application,
)
from .openflow_scheduled_application import (
    ConcurrencyPolicy,
    OpenflowScheduledApplication,
    OpenflowScheduledApplicationArgs,
    scheduled_spark_application,
)
from .openflow_submit_environment import (
    DRIVER_SERVICE_ACCOUNT,
    EXECUTOR_SERVICE_ACCOUNT,
    DataEndpoint,
    DynamicAllocation,
    OpenflowSubmitEnvironment,
    OpenflowSubmitEnvironmentArgs,
    UiClients,
    network_policy_specs,
    pod_templates,
    spark_defaults,
    spark_defaults_text,
)
from .pod_templates import LocalDirMedium, pod_template
from .spark import (
    SPARK_IMAGE,
    SPARK_UID,
    SPARK_VERSION,
    driver_role_rules,
    memory_overhead_mib,
    pod_memory_mib,
    submitter_role_rules,
    whole_mebibytes,
)
from .spark_operator import (
    SPARK_OPERATOR_IMAGE,
    SPARK_OPERATOR_VERSION,
    SparkOperator,
    SparkOperatorArgs,
    operator_objects,
    operator_values,
)

__all__ = [
    "DRIVER_SERVICE_ACCOUNT",
    "EXECUTOR_SERVICE_ACCOUNT",
    "SPARK_IMAGE",
    "SPARK_OPERATOR_IMAGE",
    "SPARK_OPERATOR_VERSION",
    "SPARK_UID",
    "SPARK_VERSION",
    "ApplicationType",
    "ConcurrencyPolicy",
    "DataEndpoint",
    "DynamicAllocation",
    "LocalDirMedium",
    "OpenflowApplication",
    "OpenflowApplicationArgs",
    "OpenflowScheduledApplication",
    "OpenflowScheduledApplicationArgs",
    "OpenflowSubmitEnvironment",
    "OpenflowSubmitEnvironmentArgs",
    "SparkExecutors",
    "SparkOperator",
    "SparkOperatorArgs",
    "SparkProcess",
    "UiClients",
    "application_spec",
    "driver_role_rules",
    "memory_overhead_mib",
    "network_policy_specs",
    "operator_objects",
    "operator_values",
    "pod_memory_mib",
    "pod_template",
    "pod_templates",
    "scheduled_spark_application",
    "spark_application",
    "spark_defaults",
    "spark_defaults_text",
    "submitter_role_rules",
    "whole_mebibytes",
]
