"""openflow (Apache Spark on Kubernetes): the spark-submit environment, and the facts it shares
with the Spark operator's application components."""

from .openflow_submit_environment import (
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

__all__ = [
    "SPARK_IMAGE",
    "SPARK_UID",
    "SPARK_VERSION",
    "DataEndpoint",
    "DynamicAllocation",
    "LocalDirMedium",
    "OpenflowSubmitEnvironment",
    "OpenflowSubmitEnvironmentArgs",
    "UiClients",
    "driver_role_rules",
    "memory_overhead_mib",
    "network_policy_specs",
    "pod_memory_mib",
    "pod_template",
    "pod_templates",
    "spark_defaults",
    "spark_defaults_text",
    "submitter_role_rules",
    "whole_mebibytes",
]
