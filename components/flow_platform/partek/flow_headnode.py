"""The Partek Flow headnode: web UI, job dispatch to workers, license checks for executables."""

from collections.abc import Mapping
from typing import Any, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .. import PACKAGE
from .. import validation as v
from ..k8s.labels import selector_labels, standard_labels
from ..k8s.network import (
    cidr_peer,
    dns_egress_spec,
    egress_spec,
    ingress_spec,
    network_policy,
    pod_peer,
    ports,
)
from ..k8s.resources import container_resources
from ..k8s.security import restricted_container_security_context, restricted_pod_security_context
from ..k8s.workload import deployment, http_probes, service, service_port
from .licensing import LMGRD_PORT, VENDOR_PORT
from .sizing import TRUSTSTORE_PATH, HeadnodeMode, catalina_opts

NAME = "flowheadnode"
SYSTEM = "partek"
HTTP_PORT = 8080
AKKA_PORT = 2552
LICENSING_PORT = 8443
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
        "extra_jvm_options": v.list_of(v.non_empty_text),
        "ca_certs": v.non_empty_text,
        "home_claim": v.object_name,
        "ingress_host": v.hostname,
        "ingress_class": v.object_name,
        "tls_secret": v.object_name,
        "cluster_issuer": v.object_name,
        "ingress_controller_namespace": v.namespace_name,
        "ingress_controller_labels": v.labels,
        "license_server": v.ArgsSpec(
            "LicenseServerPeer", LicenseServerPeer, {"namespace": v.namespace_name, "labels": v.labels}
        ),
        "license_server_cidrs": v.list_of(v.cidr, min_length=1),
        "external_endpoints": v.list_of(
            v.ArgsSpec(
                "ExternalEndpoint",
                ExternalEndpoint,
                {
                    "name": v.dns_label,
                    "cidrs": v.list_of(v.cidr, min_length=1),
                    "ports": v.list_of(v.port, min_length=1),
                },
            )
        ),
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
        selector = selector_labels(NAME, env)
        has_ca = args.get("ca_certs") is not None
        jvm = catalina_opts(
            args["memory"],
            args["mode"],
            args.get("worker_memory_mb", DEFAULT_WORKER_MEMORY_MB),
            args.get("worker_cores", DEFAULT_WORKER_CORES),
            truststore=has_ca,
            extra=args.get("extra_jvm_options", []),
        )

        volumes: list[dict[str, Any]] = [
            {"name": "home-flow", "persistentVolumeClaim": {"claimName": args["home_claim"]}}
        ]
        mounts: list[dict[str, Any]] = [{"name": "home-flow", "mountPath": "/home/flow"}]
        depends: list[pulumi.Resource] = []
        if has_ca:
            flowconfig = k8s.core.v1.Secret(
                f"{name}-flowconfig",
                metadata={"name": "flowconfig", "namespace": namespace, "labels": labels},
                type="Opaque",
                data={"cacerts": pulumi.Output.secret(args["ca_certs"])},
                opts=child,
            )
            depends.append(flowconfig)
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
            **http_probes("http", startup_seconds=900),
            "volumeMounts": mounts,
        }
        pod_spec = {
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": restricted_pod_security_context(FLOW_UID, FLOW_UID, fs_group=FLOW_UID),
            "terminationGracePeriodSeconds": 120,
            "containers": [container],
            "volumes": volumes,
        }
        deployment(
            f"{name}-deployment",
            NAME,
            namespace,
            labels,
            selector,
            pod_spec,
            replicas=1,
            strategy="Recreate",
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=depends)),
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
            spec=ingress_spec_for(
                args["ingress_host"],
                args.get("ingress_class", DEFAULT_INGRESS_CLASS),
                args.get("tls_secret", DEFAULT_TLS_SECRET),
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
            "flowheadnode-allow-workers": ingress_spec(selector, [workers], ports(AKKA_PORT, LICENSING_PORT)),
            "flowheadnode-allow-dns": dns_egress_spec(selector),
        }
        server = args.get("license_server")
        if server is not None:
            rules["flowheadnode-allow-license-server"] = egress_spec(
                selector, [pod_peer(server["labels"], server["namespace"])], ports(LMGRD_PORT, VENDOR_PORT)
            )
        if args.get("license_server_cidrs"):
            rules["flowheadnode-allow-license-server"] = egress_spec(
                selector,
                [cidr_peer(c) for c in sorted(args["license_server_cidrs"])],
                ports(LMGRD_PORT, VENDOR_PORT),
            )
        for endpoint in args.get("external_endpoints", []):
            rules[f"flowheadnode-allow-{endpoint['name']}"] = egress_spec(
                selector, [cidr_peer(c) for c in sorted(endpoint["cidrs"])], ports(*endpoint["ports"])
            )
        for policy_name, spec in rules.items():
            network_policy(
                f"{name}-{policy_name.removeprefix('flowheadnode-')}",
                namespace,
                policy_name,
                spec,
                labels,
                child,
            )


def ingress_annotations(cluster_issuer: str | None) -> dict[str, str]:
    """HTTPS only: nginx redirects plain HTTP; cert-manager issues the certificate when named."""
    annotations = {
        "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
        "nginx.ingress.kubernetes.io/ssl-redirect": "true",
        # Flow uploads sequencing data through the UI: no request body limit at the proxy
        "nginx.ingress.kubernetes.io/proxy-body-size": "0",
        "nginx.ingress.kubernetes.io/proxy-read-timeout": "600",
    }
    if cluster_issuer:
        annotations["cert-manager.io/cluster-issuer"] = cluster_issuer
    return annotations


def ingress_spec_for(host: str, ingress_class: str, tls_secret: str) -> Any:
    """TLS for the host and one rule to the Service's http port."""
    return {
        "ingressClassName": ingress_class,
        "tls": [{"hosts": [host], "secretName": tls_secret}],
        "rules": [
            {
                "host": host,
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": NAME, "port": {"name": "http"}}},
                        }
                    ]
                },
            }
        ],
    }
