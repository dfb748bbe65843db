"""The kubeflow spark-operator 2.5.2: its controller rendered from the pinned chart as plain objects,
and the cluster's CRDs (managed by one stack per cluster, read by the others).

Without the webhook. In 2.x the operator applies a SparkApplication's security contexts, volumes,
sidecars and env to the pods through its mutating webhook; running it means a cert-manager (or
self-managed) certificate, an API-server -> webhook network path and ``failurePolicy: Fail`` on
every pod create in the job namespaces. Instead flow-platform puts all of that into
``spec.driver.template`` / ``spec.executor.template`` (Spark's own pod templates, which the
controller writes to a file and hands to spark-submit), and validates those templates as v1 Pods:
with a template and ``sparkVersion`` >= 3.0.0 the 2.5.2 controller does not even mark the pods for
mutation (internal/controller/sparkapplication/submission.go). Nothing is left that needs the
webhook, and nothing intercepts pod creation.
"""

from typing import Any, Required, TypedDict

import pulumi

from .. import PACKAGE
from .. import validation as v
from ..aws.images import ImageRef
from ..k8s.chart import custom_resource_definitions, register_objects
from ..k8s.labels import standard_labels
from ..k8s.network import api_server_egress_spec, dns_egress_spec, network_policies
from ..k8s.resources import container_resources
from ..k8s.security import restricted_pod_security_context
from .spark_operator_chart import (
    chart_metadata,
    controller_name,
    controller_selector_labels,
    crd_documents,
    render,
)

SPARK_OPERATOR_VERSION = "2.5.2"
"""The chart and controller version (Chart.yaml ``version`` and ``appVersion``)."""
SPARK_OPERATOR_IMAGE = f"ghcr.io/kubeflow/spark-operator/controller:{SPARK_OPERATOR_VERSION}"
"""The chart's image (values.yaml ``image.registry``/``image.repository``, tag = appVersion)."""
SPARK_UID = 185
"""The controller image's user (Dockerfile ``USER ${SPARK_UID}:${SPARK_GID}``, 185:185 at v2.5.2)."""
DEFAULT_WORKERS = 4
"""Concurrent reconciles (``--controller-threads``, chart default 10). Each submission runs a
spark-submit JVM inside the controller pod; 4 at a time fit :data:`CONTROLLER_MEMORY`."""
CONTROLLER_CPU = "250m"
CONTROLLER_MEMORY = "2Gi"
"""The controller's memory request = limit: the Go manager plus up to :data:`DEFAULT_WORKERS`
short-lived spark-submit JVMs (the chart sets no resources)."""
DEFAULT_API_SERVER_PORT = 443
DEFAULT_MANAGE_CRDS = False
DEFAULT_PROTECT = False
TMP_SIZE = "1Gi"
"""The controller's /tmp (chart default): spark-submit and the pod-template files live there."""


class SparkOperatorArgs(TypedDict, total=False):
    """Inputs of :class:`SparkOperator`."""

    namespace: Required[str]
    """The operator's namespace (its release name: the cluster-wide object names derive from it)."""
    env: Required[str]
    """Environment of the installing stack (labels)."""
    image: Required[str]
    """The controller image, pinned by tag (the mirror's copy of
    ghcr.io/kubeflow/spark-operator/controller)."""
    job_namespaces: Required[list[str]]
    """The openflow namespaces this operator serves (``spark.jobNamespaces``: its Roles are created
    there and nowhere else; never every namespace)."""
    manage_crds: bool
    """Create the cluster's CRDs (exactly one stack per cluster); otherwise read them, so a missing
    CRD fails the preview naming it. Default: ``false``."""
    protect: bool
    """Protect the CRDs (they are always retained on delete). Default: ``false``."""
    workers: int
    """Concurrent submissions (``controller.workers``). Default: ``4``."""
    api_server_cidrs: Required[list[str]]
    """The API server's addresses (the controller watches it and submits through it)."""
    api_server_port: int
    """Its port. Default: ``443``."""


def _tagged_image(value: object) -> str:
    text = v.image_reference(value)
    if ImageRef.parse(text).tag is None:
        raise ValueError(f"{text!r}: the chart writes registry/repository:tag, so the image needs a tag")
    return text


ARGS = v.ArgsSpec(
    "SparkOperator",
    SparkOperatorArgs,
    {
        "namespace": v.namespace_name,
        "env": v.label_value,
        "image": _tagged_image,
        "job_namespaces": v.list_of(v.namespace_name, min_length=1),
        "manage_crds": v.boolean,
        "protect": v.boolean,
        "workers": v.positive_int,
        "api_server_cidrs": v.list_of(v.cidr, min_length=1),
        "api_server_port": v.port,
    },
    rules=[
        v.rule(
            "job_namespaces",
            lambda a: (
                "the operator's own namespace is not a job namespace"
                if a["namespace"] in a.get("job_namespaces", [])
                else None
            ),
        ),
        v.rule(
            "job_namespaces",
            lambda a: (
                "listed twice"
                if len(set(a.get("job_namespaces", []))) != len(a.get("job_namespaces", []))
                else None
            ),
        ),
    ],
)


def operator_values(image: str, job_namespaces: list[str], workers: int = DEFAULT_WORKERS) -> dict[str, Any]:
    """Chart values flow-platform sets (each key exists in values.yaml and changes the render: tested).

    Only the listed job namespaces (Roles there, a ClusterRole that can only read CRDs); no
    webhook; no chart-made Spark account (openflow's driver/executor accounts are per namespace);
    resources; UID 185 explicit under restricted Pod Security (the chart's container context is
    already restricted: drop ALL, no escalation, read-only root, RuntimeDefault); metrics off
    (nothing scrapes them and no NetworkPolicy opens their port)."""
    if not job_namespaces or "" in job_namespaces:
        raise ValueError("spark.jobNamespaces must list the openflow namespaces; empty means every namespace")
    ref = ImageRef.parse(image)
    if ref.tag is None:
        raise ValueError(f"{image!r}: the image needs a tag")
    return {
        "image": {
            "registry": ref.registry,
            "repository": ref.path,
            "tag": ref.suffix().removeprefix(":"),
        },
        "controller": {
            "workers": workers,
            "resources": container_resources(CONTROLLER_CPU, CONTROLLER_MEMORY),
            "podSecurityContext": restricted_pod_security_context(SPARK_UID, SPARK_UID, fs_group=SPARK_UID),
            "labels": {"app.kubernetes.io/part-of": "openflow"},
        },
        "webhook": {"enable": False},
        "spark": {
            "jobNamespaces": sorted(job_namespaces),
            "serviceAccount": {"create": False},
            "rbac": {"create": False},
        },
        "prometheus": {"metrics": {"enable": False}},
    }


def operator_objects(args: SparkOperatorArgs) -> list[dict[str, Any]]:
    """The chart's objects for this operator (pure, in the chart's template order)."""
    values = operator_values(args["image"], args["job_namespaces"], args.get("workers", DEFAULT_WORKERS))
    return [d for template in render(values, args["namespace"], args["namespace"]).values() for d in template]


def operator_pod_labels(namespace: str) -> dict[str, str]:
    """The controller pods' selector labels (the release is the operator's namespace)."""
    return controller_selector_labels({}, namespace)


class SparkOperator(pulumi.ComponentResource):
    """The spark-operator controller as plain resources (chart 2.5.2 rendered in Python; no download,
    and the offline render and policy check see its Deployment), its NetworkPolicies, and the CRDs:
    created by the one stack per cluster that manages them (retained on delete, protected where
    set), read by the others."""

    chart_version: pulumi.Output[str]
    """The chart version."""
    controller_service_account: pulumi.Output[str]
    """The controller's ServiceAccount (it submits the applications: its Roles are in the job namespaces)."""

    def __init__(
        self, name: str, args: SparkOperatorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:SparkOperator", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = args["namespace"]
        self.crds = custom_resource_definitions(
            name,
            crd_documents(),
            args.get("manage_crds", DEFAULT_MANAGE_CRDS),
            args.get("protect", DEFAULT_PROTECT),
            child,
        )
        docs = operator_objects(args)
        after = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=list(self.crds)))
        register_objects(name, docs, after)
        labels = standard_labels("spark-operator", args["env"], "openflow", component="operator")
        pods = operator_pod_labels(namespace)
        port = args.get("api_server_port", DEFAULT_API_SERVER_PORT)
        specs = {
            "spark-operator-allow-api-server": api_server_egress_spec(pods, args["api_server_cidrs"], port),
            "spark-operator-allow-dns": dns_egress_spec(pods),
        }
        network_policies(name, namespace, specs, labels, child, prefix="spark-operator-")
        self.chart_version = pulumi.Output.from_input(str(chart_metadata()["version"]))
        self.controller_service_account = pulumi.Output.from_input(controller_name({}, namespace))
        self.register_outputs(
            {
                "chart_version": self.chart_version,
                "controller_service_account": self.controller_service_account,
            }
        )
