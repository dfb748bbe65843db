"""The Flink Kubernetes Operator of one environment: its objects rendered from the pinned chart, and
the cluster's CRDs (managed by one stack per cluster, read by the others)."""

from typing import Any, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .. import PACKAGE
from .. import validation as v
from ..k8s.chart import custom_resource_definitions, register_objects
from ..k8s.labels import standard_labels
from ..k8s.network import (
    api_server_egress_spec,
    cidr_peers,
    dns_egress_spec,
    egress_spec,
    ingress_spec,
    namespace_peer,
    network_policies,
    ports,
)
from ..k8s.workload import http_probes
from .configuration import (
    ARTIFACT_SCHEME_PORTS,
    JOBMANAGER_PORTS,
    OPERATOR_VERSION,
    WEBHOOK_PORT,
    operator_values,
)
from .operator_chart import crd_documents, render

OPERATOR_LABELS = {"app.kubernetes.io/name": "flink-kubernetes-operator"}
KEYSTORE_SECRET = "flink-operator-webhook-keystore"


DEFAULT_WEBHOOK = False
DEFAULT_ARTIFACT_SCHEMES = ["https"]
"""Session-job jar schemes the operator fetches when none are given: TLS only."""
DEFAULT_API_SERVER_PORT = 443


class FlinkOperatorArgs(TypedDict, total=False):
    """Inputs of :class:`FlinkOperator`."""

    namespace: Required[str]
    """The operator's namespace."""
    env: Required[str]
    """Environment of the installing stack (labels)."""
    image_repository: Required[str]
    """Operator image repository (the mirror's when enabled)."""
    image_tag: Required[str]
    """Operator image tag, pinned (the chart defaults to latest)."""
    watch_namespaces: Required[list[str]]
    """The Flink namespaces this operator serves (its Roles are created there)."""
    manage_crds: bool
    """Create the cluster's CRDs (exactly one stack per cluster); otherwise read them, so a missing
    CRD fails the preview naming it. Default: ``false``."""
    protect: bool
    """Protect the CRDs (they are always retained on delete). Default: ``false``."""
    webhook: bool
    """The admission webhook; needs cert-manager. Default: ``false``."""
    webhook_keystore_password: pulumi.Input[str]
    """The webhook keystore's password, stored in a Secret of ours. Default: none (required with
    ``webhook``: the chart's default password is public)."""
    artifact_schemes: list[str]
    """Session-job jar schemes the operator may fetch (``https``, ``http``). Default: ``https``."""
    artifact_cidrs: list[str]
    """Where the operator may fetch session-job jars from (egress on the schemes' ports).
    Default: none (no egress rule)."""
    api_server_cidrs: Required[list[str]]
    """The API server's addresses (the operator watches it; it calls the webhook)."""
    api_server_port: int
    """Its port. Default: ``443``."""


ARGS = v.ArgsSpec(
    "FlinkOperator",
    FlinkOperatorArgs,
    {
        "namespace": v.namespace_name,
        "env": v.label_value,
        "image_repository": v.non_empty_text,
        "image_tag": v.image_tag,
        "watch_namespaces": v.list_of(v.namespace_name, min_length=1),
        "manage_crds": v.boolean,
        "protect": v.boolean,
        "webhook": v.boolean,
        "webhook_keystore_password": lambda value: value,  # a secret Output: checked when used
        "artifact_schemes": v.list_of(v.choice(tuple(ARTIFACT_SCHEME_PORTS)), min_length=1),
        "artifact_cidrs": v.list_of(v.cidr),
        "api_server_cidrs": v.list_of(v.cidr, min_length=1),
        "api_server_port": v.port,
    },
)


def operator_configuration(args: FlinkOperatorArgs) -> dict[str, str]:
    """Operator settings flow-platform owns (KubernetesOperatorConfigOptions at release-1.15.0)."""
    schemes = sorted(args.get("artifact_schemes") or DEFAULT_ARTIFACT_SCHEMES)
    return {"kubernetes.operator.user.artifacts.allowed-schemes": ",".join(schemes)}


def operator_objects(args: FlinkOperatorArgs) -> list[dict[str, Any]]:
    """The chart's objects for this operator (pure), with a readiness probe on the operator's
    health endpoint (the chart has liveness and startup probes only)."""
    values = operator_values(
        args["image_repository"],
        args["image_tag"],
        args["namespace"],
        args["watch_namespaces"],
        operator_configuration(args),
        KEYSTORE_SECRET if args.get("webhook", DEFAULT_WEBHOOK) else None,
    )
    docs = [d for template in render(values, args["namespace"]).values() for d in template]
    for doc in docs:
        if doc["kind"] == "Deployment":
            operator = doc["spec"]["template"]["spec"]["containers"][0]
            operator["readinessProbe"] = http_probes("health-port")["readinessProbe"]
    return docs


class FlinkOperator(pulumi.ComponentResource):
    """The operator as plain resources (the chart 1.15.0 rendered in Python; no download, and the
    offline render and policy check see its Deployment), its NetworkPolicies, and the CRDs: created
    by the one stack per cluster that manages them (retained on delete, protected where set), read
    by the others."""

    chart_version: pulumi.Output[str]
    """The operator version."""

    def __init__(
        self, name: str, args: FlinkOperatorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:FlinkOperator", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = args["namespace"]
        if args.get("webhook", DEFAULT_WEBHOOK) and not args.get("webhook_keystore_password"):
            raise ValueError("webhook needs webhook_keystore_password (the chart's default is public)")
        self.crds = custom_resource_definitions(
            name, crd_documents(), args.get("manage_crds", False), args.get("protect", False), child
        )
        labels = standard_labels("flink-kubernetes-operator", args["env"], "flink", component="operator")
        first: list[pulumi.Resource] = list(self.crds)
        if args.get("webhook", DEFAULT_WEBHOOK):
            first.append(
                k8s.core.v1.Secret(
                    f"{name}-webhook-keystore",
                    metadata={"name": KEYSTORE_SECRET, "namespace": namespace, "labels": labels},
                    type="Opaque",
                    string_data={"password": pulumi.Output.secret(args["webhook_keystore_password"])},
                    opts=child,
                )
            )
        docs = operator_objects(args)
        after = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=first))
        register_objects(name, docs, after)
        self._network_policies(name, args, labels, child)
        self.chart_version = pulumi.Output.from_input(OPERATOR_VERSION)
        self.register_outputs({"chart_version": self.chart_version})

    @staticmethod
    def _network_policies(
        name: str, args: FlinkOperatorArgs, labels: dict[str, str], child: pulumi.ResourceOptions
    ) -> None:
        namespace = args["namespace"]
        port = args.get("api_server_port", DEFAULT_API_SERVER_PORT)
        rules = {
            "flink-operator-allow-api-server": api_server_egress_spec(
                OPERATOR_LABELS, args["api_server_cidrs"], port
            ),
            "flink-operator-allow-jobmanagers": egress_spec(
                OPERATOR_LABELS,
                [namespace_peer(ns) for ns in sorted(args["watch_namespaces"])],
                ports(JOBMANAGER_PORTS["rest"]),
            ),
            "flink-operator-allow-dns": dns_egress_spec(OPERATOR_LABELS),
        }
        if args.get("artifact_cidrs"):
            schemes = args.get("artifact_schemes") or list(DEFAULT_ARTIFACT_SCHEMES)
            rules["flink-operator-allow-artifacts"] = egress_spec(
                OPERATOR_LABELS,
                cidr_peers(args["artifact_cidrs"]),
                ports(*sorted({ARTIFACT_SCHEME_PORTS[s] for s in schemes})),
            )
        if args.get("webhook", DEFAULT_WEBHOOK):
            rules["flink-operator-allow-webhook"] = ingress_spec(
                OPERATOR_LABELS, cidr_peers(args["api_server_cidrs"]), ports(WEBHOOK_PORT)
            )
        network_policies(name, namespace, rules, labels, child, prefix="flink-operator-")
