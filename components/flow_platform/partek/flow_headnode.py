"""The Partek Flow headnode: web UI, job dispatch to workers, license checks for executables."""

from collections.abc import Mapping
from typing import Any, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .. import PACKAGE
from .. import validation as v
from ..k8s.ingress import https_ingress_annotations, https_ingress_spec
from ..k8s.labels import selector_labels, standard_labels
from ..k8s.network import (
    ENDPOINT_CHECKS,
    PEER_CHECKS,
    cidr_peers,
    dns_egress_spec,
    egress_spec,
    endpoint_egress_spec,
    ingress_spec,
    network_policies,
    pod_peer,
    ports,
)
from ..k8s.resources import container_resources
from ..k8s.rollout import checksum_annotations
from ..k8s.security import restricted_container_security_context, restricted_pod_security_context
from ..k8s.workload import (
    component_depends_on,
    http_probes,
    scheduling_fields,
    service,
    service_port,
    single_pod_deployment,
)
from .licensing import LMGRD_PORT, VENDOR_PORT
from .sizing import TRUSTSTORE_PATH, HeadnodeMode, catalina_opts

NAME = "flowheadnode"
SYSTEM = "partek"
HTTP_PORT = 8080
AKKA_PORT = 2552
LICENSING_PORT = 8443
WORKER_PORT = 2552
"""The port each worker's Akka remoting listens on, pinned: the headnode connects back to it."""
STARTUP_SECONDS = 900
"""Tomcat's first start on a fresh /home/flow takes minutes; the startup probe allows this long."""
GRACE_SECONDS = 120
ACME_SOLVER_PORT = 8089
"""cert-manager's HTTP-01 solver pods listen here (cert-manager pkg/issuer/acme/http/http.go
``acmeSolverListenPort``) and carry ``acme.cert-manager.io/http01-solver: "true"``
(pkg/apis/acme/v1/types.go ``SolverIdentificationLabelKey``)."""
ACME_SOLVER_LABELS = {"acme.cert-manager.io/http01-solver": "true"}
FLOW_UID = 1000
"""The Flow image runs as, and needs /home/flow owned by, UID:GID 1000:1000."""
WORKER_LABELS_NAME = "flowworker"


DEFAULT_WORKER_MEMORY_MB = 1024
"""Distributed mode: the internal worker's memory cap in MB."""
DEFAULT_WORKER_CORES = 2
"""Distributed mode: the internal worker's core cap."""
DEFAULT_INGRESS_CLASS = "nginx"
DEFAULT_TLS_SECRET = f"{NAME}-tls"
DEFAULT_INGRESS_CONTROLLER_NAMESPACE = "ingress-nginx"
DEFAULT_INGRESS_CONTROLLER_LABELS = {"app.kubernetes.io/name": "ingress-nginx"}


def headnode_selector(env: str) -> dict[str, str]:
    """The headnode pods' selector labels: what a peer's network policy (the license server's)
    selects them by."""
    return selector_labels(NAME, env)


class LicenseServerPeer(TypedDict):
    """Where the in-cluster FlexLM server runs, for the headnode's egress rule."""

    namespace: pulumi.Input[str]
    """Namespace of the in-cluster FlexLM server (e.g. ``FlexLMServer``'s namespace)."""
    labels: dict[str, str]
    """Its pod labels."""


class ExternalEndpoint(TypedDict):
    """A named external endpoint the headnode may reach (egress NetworkPolicy)."""

    name: str
    """What the endpoint is (a DNS label, used in the NetworkPolicy name)."""
    cidrs: list[str]
    """Its addresses (CIDR blocks)."""
    ports: list[int]
    """Its TCP ports."""


class FlowHeadnodeArgs(TypedDict, total=False):
    """Inputs of :class:`FlowHeadnode`."""

    namespace: Required[pulumi.Input[str]]
    """The Flow namespace (e.g. ``NamespaceGuardrails.namespace_name``)."""
    env: Required[str]
    """Environment; plain because it shapes labels and selectors (``deployment: <env>``)."""
    image: Required[pulumi.Input[str]]
    """The Partek Flow image, pinned by tag or digest (the ECR mirror's copy where there is one)."""
    license_address: Required[pulumi.Input[str]]
    """``PARTEKLM_LICENSE_FILE``: ``port@host``, ``@host`` or the license file path
    (e.g. ``FlexLMServer.license_address``)."""
    mode: Required[HeadnodeMode]
    """``single-node`` (jobs run on the internal worker) or ``distributed`` (remote workers)."""
    cpu: Required[str]
    """CPU request (the seed starts at 8)."""
    memory: Required[str]
    """Memory request; sizes the JVM heap and the internal worker."""
    memory_limit: str
    """Memory limit. Default: the memory request."""
    worker_memory_mb: int
    """Distributed mode: the internal worker's memory cap in MB. Default: ``1024``."""
    worker_cores: int
    """Distributed mode: the internal worker's core cap. Default: ``2``."""
    worker_port: int
    """Distributed mode: the remote workers' pinned Akka port, for the headnode -> worker rule.
    Default: ``2552``."""
    priority_class_name: str
    """PriorityClass of the headnode pod. Default: none."""
    image_pull_secrets: list[str]
    """Secrets in the namespace to pull an upstream image with. Default: none (the mirror's image)."""
    extra_jvm_options: list[str]
    """Passed through at the end of CATALINA_OPTS (never heap or worker sizing). Default: none."""
    ca_certs: pulumi.Input[str]
    """Base64 Java truststore for LDAP over TLS (secret); mounted as /etc/flowconfig/cacerts.
    Default: none (the image's truststore)."""
    home_claim: Required[pulumi.Input[str]]
    """ReadWriteMany claim mounted at /home/flow, shared with the workers
    (e.g. ``EfsSharedVolume.claim_name``)."""
    ingress_host: Required[str]
    """Public host name of the web UI (HTTPS only)."""
    ingress_class: str
    """IngressClass. Default: ``nginx``."""
    tls_secret: str
    """TLS Secret for the host (issued by ``cluster_issuer`` when that is set).
    Default: ``flowheadnode-tls``."""
    cluster_issuer: str
    """cert-manager ClusterIssuer that issues the host's certificate. Default: none."""
    acme_http01: bool
    """The ClusterIssuer solves ACME HTTP-01 challenges: allow the ingress controller to reach the
    solver pods cert-manager starts in this namespace (port 8089). Default: ``false``."""
    ingress_controller_namespace: str
    """Namespace of the ingress controller allowed to reach port 8080. Default: ``ingress-nginx``."""
    ingress_controller_labels: dict[str, str]
    """Pod labels of the ingress controller. Default: ``app.kubernetes.io/name: ingress-nginx``."""
    license_server: LicenseServerPeer
    """The in-cluster FlexLM server to allow egress to (flexlm mode). Default: none."""
    license_server_cidrs: list[str]
    """Addresses of an external license server (external mode). Default: none."""
    external_endpoints: list[ExternalEndpoint]
    """Named external endpoints the headnode may reach (LDAP, genome downloads, ...). Default: none."""


def _one_license_rule(args: Mapping[str, Any]) -> str | None:
    if args.get("license_server") is not None and args.get("license_server_cidrs"):
        return "set license_server (in-cluster FlexLM) or license_server_cidrs (external), not both"
    return None


ARGS = v.ArgsSpec(
    "FlowHeadnode",
    FlowHeadnodeArgs,
    {
        "namespace": v.namespace_name,
        "env": v.label_value,
        "image": v.image_reference,
        "license_address": v.non_empty_text,
        "mode": v.one_of(HeadnodeMode),
        "cpu": v.cpu,
        "memory": v.memory,
        "memory_limit": v.memory,
        "worker_memory_mb": v.positive_int,
        "worker_cores": v.positive_int,
        "worker_port": v.port,
        "priority_class_name": v.object_name,
        "image_pull_secrets": v.list_of(v.object_name),
        "extra_jvm_options": v.list_of(v.non_empty_text),
        "ca_certs": v.non_empty_text,
        "home_claim": v.object_name,
        "ingress_host": v.hostname,
        "ingress_class": v.object_name,
        "tls_secret": v.object_name,
        "cluster_issuer": v.object_name,
        "acme_http01": v.boolean,
        "ingress_controller_namespace": v.namespace_name,
        "ingress_controller_labels": v.labels,
        "license_server": v.ArgsSpec("LicenseServerPeer", LicenseServerPeer, PEER_CHECKS),
        "license_server_cidrs": v.list_of(v.cidr, min_length=1),
        "external_endpoints": v.list_of(v.ArgsSpec("ExternalEndpoint", ExternalEndpoint, ENDPOINT_CHECKS)),
    },
    rules=[v.rule("license_server_cidrs", _one_license_rule), v.not_below("memory_limit", "memory")],
)


def headnode_env(
    license_address: pulumi.Input[str], opts: str, extra: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The headnode's environment; ``PARTEK_COMMON_NO_TOTAL_LIMITS`` is always 1 (anything else
    can hang Partek executables: limits are Kubernetes' job)."""
    env: list[dict[str, Any]] = [
        {"name": "PARTEKLM_LICENSE_FILE", "value": license_address},
        {"name": "PARTEK_COMMON_NO_TOTAL_LIMITS", "value": "1"},
        {"name": "CATALINA_OPTS", "value": opts},
    ]
    env.extend({"name": k, "value": v} for k, v in sorted((extra or {}).items()))
    return env


class FlowHeadnode(pulumi.ComponentResource):
    """One headnode per environment: a Recreate Deployment (one writer on /home/flow), its
    Service (80->8080 http, 2552 akka, 8443 licensing), an HTTPS-only Ingress, and the allow
    rules for exactly its flows."""

    service_name: pulumi.Output[str]
    """The Service workers connect to (``flowheadnode``)."""
    url: pulumi.Output[str]
    """The web UI's address."""
    catalina_opts: pulumi.Output[str]
    """The computed JVM options, for review."""

    def __init__(self, name: str, args: FlowHeadnodeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:FlowHeadnode", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = args["namespace"]
        env = args["env"]
        labels = standard_labels(NAME, env, SYSTEM, component="headnode")
        selector = headnode_selector(env)
        has_ca = args.get("ca_certs") is not None
        jvm = catalina_opts(
            args["memory"],
            args["mode"],
            args.get("worker_memory_mb", DEFAULT_WORKER_MEMORY_MB),
            args.get("worker_cores", DEFAULT_WORKER_CORES),
            truststore=has_ca,
            extra=args.get("extra_jvm_options", []),
            memory_limit=args.get("memory_limit"),
        )

        volumes: list[dict[str, Any]] = [
            {"name": "home-flow", "persistentVolumeClaim": {"claimName": args["home_claim"]}}
        ]
        mounts: list[dict[str, Any]] = [{"name": "home-flow", "mountPath": "/home/flow"}]
        # the license server and /home/flow first (the vendor: deploy flexlmserver first)
        depends: list[pulumi.Resource] = component_depends_on(opts)
        read_once: dict[str, Any] = {}
        if has_ca:
            flowconfig = k8s.core.v1.Secret(
                f"{name}-flowconfig",
                metadata={"name": "flowconfig", "namespace": namespace, "labels": labels},
                type="Opaque",
                data={"cacerts": pulumi.Output.secret(args["ca_certs"])},
                opts=child,
            )
            depends.append(flowconfig)
            # the JVM loads the truststore once: a new bundle must roll the pod
            read_once["flowconfig"] = args["ca_certs"]
            volumes.append(
                {"name": "flowconfig", "secret": {"secretName": "flowconfig", "defaultMode": 0o440}}
            )
            mounts.append(
                {"name": "flowconfig", "mountPath": TRUSTSTORE_PATH.rsplit("/", 1)[0], "readOnly": True}
            )

        container = {
            "name": NAME,
            "image": args["image"],
            "env": headnode_env(args["license_address"], jvm),
            "ports": [
                {"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"},
                {"name": "akka", "containerPort": AKKA_PORT, "protocol": "TCP"},
                {"name": "licensing", "containerPort": LICENSING_PORT, "protocol": "TCP"},
            ],
            "resources": container_resources(args["cpu"], args["memory"], args.get("memory_limit")),
            # Tomcat unpacks and writes below its install directory: the root filesystem stays writable.
            "securityContext": restricted_container_security_context(read_only_root_filesystem=False),
            **http_probes("http", startup_seconds=STARTUP_SECONDS),
            "volumeMounts": mounts,
        }
        pod_spec = {
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": restricted_pod_security_context(FLOW_UID, FLOW_UID, fs_group=FLOW_UID),
            "terminationGracePeriodSeconds": GRACE_SECONDS,
            "containers": [container],
            "volumes": volumes,
            **scheduling_fields(args.get("priority_class_name"), args.get("image_pull_secrets")),
        }
        # the only headnode: running jobs and sessions live here, so a drain waits for a planned move
        single_pod_deployment(
            name,
            NAME,
            namespace,
            labels,
            selector,
            pod_spec,
            STARTUP_SECONDS,
            GRACE_SECONDS,
            depends,
            child,
            pod_annotations=checksum_annotations(read_once) if read_once else None,
        )
        svc = service(
            f"{name}-service",
            NAME,
            namespace,
            labels,
            selector,
            [
                service_port("http", 80, HTTP_PORT),
                service_port("akka", AKKA_PORT),
                service_port("licensing", LICENSING_PORT),
            ],
            child,
        )
        k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata={
                "name": NAME,
                "namespace": namespace,
                "labels": labels,
                "annotations": ingress_annotations(args.get("cluster_issuer")),
            },
            spec=https_ingress_spec(
                args["ingress_host"],
                args.get("ingress_class", DEFAULT_INGRESS_CLASS),
                args.get("tls_secret", DEFAULT_TLS_SECRET),
                NAME,
                "http",
            ),
            opts=child,
        )
        self._network_policies(name, args, namespace, labels, selector, child)

        self.service_name = svc.metadata.name
        self.url = pulumi.Output.from_input(f"https://{args['ingress_host']}/")
        self.catalina_opts = pulumi.Output.from_input(jvm)
        self.register_outputs(
            {"service_name": self.service_name, "url": self.url, "catalina_opts": self.catalina_opts}
        )

    @staticmethod
    def _network_policies(
        name: str,
        args: FlowHeadnodeArgs,
        namespace: pulumi.Input[str],
        labels: dict[str, str],
        selector: dict[str, str],
        child: pulumi.ResourceOptions,
    ) -> None:
        env = args["env"]
        controller = pod_peer(
            args.get("ingress_controller_labels", DEFAULT_INGRESS_CONTROLLER_LABELS),
            args.get("ingress_controller_namespace", DEFAULT_INGRESS_CONTROLLER_NAMESPACE),
        )
        workers = pod_peer(selector_labels(WORKER_LABELS_NAME, env))
        rules: dict[str, dict[str, Any]] = {
            "flowheadnode-allow-ingress-controller": ingress_spec(selector, [controller], ports(HTTP_PORT)),
            "flowheadnode-allow-dns": dns_egress_spec(selector),
        }
        if args["mode"] == "distributed":
            # Akka remoting is symmetric: workers dial the headnode, the headnode dials each worker
            rules["flowheadnode-allow-workers"] = ingress_spec(
                selector, [workers], ports(AKKA_PORT, LICENSING_PORT)
            )
            rules["flowheadnode-to-workers"] = egress_spec(
                selector, [workers], ports(args.get("worker_port", WORKER_PORT))
            )
        if args.get("acme_http01"):
            rules["acme-http01-solver-allow-ingress-controller"] = ingress_spec(
                ACME_SOLVER_LABELS, [controller], ports(ACME_SOLVER_PORT)
            )
        server = args.get("license_server")
        if server is not None:
            rules["flowheadnode-allow-license-server"] = egress_spec(
                selector, [pod_peer(server["labels"], server["namespace"])], ports(LMGRD_PORT, VENDOR_PORT)
            )
        if args.get("license_server_cidrs"):
            rules["flowheadnode-allow-license-server"] = egress_spec(
                selector,
                cidr_peers(args["license_server_cidrs"]),
                ports(LMGRD_PORT, VENDOR_PORT),
            )
        for endpoint in args.get("external_endpoints", []):
            rules[f"flowheadnode-allow-{endpoint['name']}"] = endpoint_egress_spec(selector, endpoint)
        network_policies(name, namespace, rules, labels, child, prefix="flowheadnode-")


def ingress_annotations(cluster_issuer: str | None) -> dict[str, str]:
    """HTTPS only (:func:`~flow_platform.k8s.ingress.https_ingress_annotations`), and no request body
    limit at the proxy: Flow uploads sequencing data through the UI."""
    return https_ingress_annotations(
        cluster_issuer,
        extra={
            "nginx.ingress.kubernetes.io/proxy-body-size": "0",
            "nginx.ingress.kubernetes.io/proxy-read-timeout": "600",
        },
    )
