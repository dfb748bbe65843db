"""The Flink Kubernetes Operator: its CRDs and the official Helm chart at a pinned version."""

from typing import Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .. import PACKAGE
from .. import validation as v
from ..k8s.labels import standard_labels
from ..k8s.network import (
    api_server_egress_spec,
    cidr_peer,
    dns_egress_spec,
    egress_spec,
    ingress_spec,
    namespace_peer,
    network_policy,
    ports,
)
from .configuration import (
    CHART_REPOSITORY,
    CRD_BASE_URL,
    CRD_FILES,
    JOBMANAGER_PORTS,
    OPERATOR_VERSION,
    WEBHOOK_PORT,
    operator_values,
)

OPERATOR_LABELS = {"app.kubernetes.io/name": "flink-kubernetes-operator"}


DEFAULT_WEBHOOK = False
DEFAULT_API_SERVER_PORT = 443


class FlinkOperatorArgs(TypedDict, total=False):
    """Inputs of :class:`FlinkOperator`."""

    namespace: Required[pulumi.Input[str]]
    """The operator's namespace."""
    env: Required[str]
    """Environment of the installing stack (labels)."""
    image_repository: Required[str]
    """Operator image repository (the mirror's when enabled)."""
    image_tag: Required[str]
    """Operator image tag, pinned (the chart defaults to latest)."""
    watch_namespaces: Required[list[str]]
    """Exactly the Flink namespaces of the environments using this operator."""
    webhook: bool
    """The admission webhook; needs cert-manager. Default: ``false``."""
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
        "webhook": v.boolean,
        "api_server_cidrs": v.list_of(v.cidr, min_length=1),
        "api_server_port": v.port,
    },
)


class FlinkOperator(pulumi.ComponentResource):
    """CRDs applied from the release's own files, then the chart with ``skip_crds``: Helm never
    upgrades CRDs, so they are managed here at the same pinned version; bumping
    :data:`OPERATOR_VERSION` upgrades both together."""

    chart_version: pulumi.Output[str]
    """The installed chart version."""

    def __init__(
        self, name: str, args: FlinkOperatorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:FlinkOperator", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = args["namespace"]
        crds = [
            k8s.yaml.v2.ConfigFile(
                f"{name}-crd-{file.split('.')[0]}", file=f"{CRD_BASE_URL}/{file}", opts=child
            )
            for file in CRD_FILES
        ]
        values = operator_values(
            args["image_repository"],
            args["image_tag"],
            args["watch_namespaces"],
            args.get("webhook", DEFAULT_WEBHOOK),
        )
        k8s.helm.v4.Chart(
            f"{name}-chart",
            chart="flink-kubernetes-operator",
            version=OPERATOR_VERSION,
            repository_opts={"repo": CHART_REPOSITORY},
            namespace=namespace,
            skip_crds=True,
            values=values,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=crds)),
        )
        labels = standard_labels("flink-kubernetes-operator", args["env"], "flink", component="operator")
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
        if args.get("webhook", DEFAULT_WEBHOOK):
            rules["flink-operator-allow-webhook"] = ingress_spec(
                OPERATOR_LABELS, [cidr_peer(c) for c in sorted(args["api_server_cidrs"])], ports(WEBHOOK_PORT)
            )
        for policy_name, spec in rules.items():
            network_policy(
                f"{name}-{policy_name.removeprefix('flink-operator-')}",
                namespace,
                policy_name,
                spec,
                labels,
                child,
            )
        self.chart_version = pulumi.Output.from_input(OPERATOR_VERSION)
        self.register_outputs({"chart_version": self.chart_version})
