"""openflow's pre-approved policy exceptions: the spark-operator's controller and the drivers of the
applications it starts (nothing for spark-submit: its pod templates are ConfigMaps, its drivers run
with the namespaced driver Role)."""

from flow_platform.openflow.spark_operator_chart import controller_name

from ..base import PolicyException
from .config import OpenflowConfig
from .operator import operator_namespace_of


def policy_exceptions(block: OpenflowConfig, env: str, namespace: str) -> list[PolicyException]:
    if block.spark_operator is None:
        return []
    operator_ns = operator_namespace_of(block, env)
    # the release is the operator's namespace (spark_operator.operator_objects): so are the names
    controller = controller_name({}, operator_ns)
    found = [
        PolicyException(
            "service-account-token",
            operator_ns,
            controller,
            ("service-account-token",),
            "the spark-operator controller watches SparkApplications and submits their drivers through"
            " the API server (Roles in this env's openflow namespace only)",
        ),
        PolicyException(
            "rbac-namespaced",
            "",
            controller,
            ("cluster-scope",),
            "chart 2.5.2's controller ClusterRole (and its binding): read-only on"
            " customresourcedefinitions, which the controller reads at start; everything it writes is"
            " in namespaced Roles",
        ),
    ]
    found += [
        PolicyException(
            "service-account-token",
            namespace,
            app.name,
            ("service-account-token",),
            "the Spark driver creates, watches and deletes its executor pods and ConfigMap through the"
            " API server (the namespaced openflow-driver Role)",
        )
        for app in block.applications
    ]
    return found
