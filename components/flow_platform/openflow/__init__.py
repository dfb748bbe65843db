"""openflow: Spark-style driver/executor applications on Kubernetes (spark-submit and the kubeflow
spark-operator)."""

from .openflow_application import (
    ApplicationDynamicAllocation,
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
from .spark_operator import (
    SPARK_OPERATOR_IMAGE,
    SPARK_OPERATOR_VERSION,
    SparkOperator,
    SparkOperatorArgs,
    operator_objects,
    operator_values,
)

__all__ = [
    "SPARK_OPERATOR_IMAGE",
    "SPARK_OPERATOR_VERSION",
    "ApplicationDynamicAllocation",
    "ApplicationType",
    "ConcurrencyPolicy",
    "OpenflowApplication",
    "OpenflowApplicationArgs",
    "OpenflowScheduledApplication",
    "OpenflowScheduledApplicationArgs",
    "SparkExecutors",
    "SparkOperator",
    "SparkOperatorArgs",
    "SparkProcess",
    "application_spec",
    "operator_objects",
    "operator_values",
    "scheduled_spark_application",
    "spark_application",
]
