"""The FlexLM license server Partek Flow checks its license against."""

from typing import Any, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .. import PACKAGE
from .. import validation as v
from ..k8s.labels import selector_labels, standard_labels
from ..k8s.network import dns_egress_spec, ingress_spec, network_policy, pod_peer, ports
from ..k8s.resources import container_resources
from ..k8s.rollout import checksum_annotations
from ..k8s.security import restricted_container_security_context
from ..k8s.storage import volume_claim
from ..k8s.workload import (
    component_depends_on,
    scheduling_fields,
    service,
    service_port,
    single_pod_deployment,
    tcp_probes,
)
from .flexlm_admission import flexlm_binding_spec, flexlm_policy_spec
from .licensing import LMGRD_PORT, VENDOR_PORT, service_license_address

NAME = "flexlmserver"
LICENSE_DIR = "/usr/local/flexlm/licenses"
LICENSE_FILE = "Partek.lic"
SYSTEM = "partek"
STARTUP_SECONDS = 120
GRACE_SECONDS = 30


DEFAULT_SERVICE_NAME = NAME


def license_server_selector(env: str) -> dict[str, str]:
    """The license server pods' selector labels: what the headnode's egress policy selects."""
    return selector_labels(NAME, env)


class FlexLMServerArgs(TypedDict, total=False):
    """Inputs of :class:`FlexLMServer`."""

    namespace: Required[pulumi.Input[str]]
    """The license server's own namespace (PSA ``privileged``: see the class docstring)."""
    env: Required[str]
    """Environment name; plain because it shapes labels and selectors."""
    image: Required[pulumi.Input[str]]
    """Partek's FlexLM image, pinned (e.g. a mirror of public.ecr.aws/partek-flow/kube-flexlm-server)."""
    license: Required[pulumi.Input[str]]
    """The Partek.lic text, as a Pulumi secret; installed onto the volume by an init container."""
    storage_class: Required[pulumi.Input[str]]
    """StorageClass of the 10Gi ReadWriteOnce license volume (flex.log grows there)."""
    service_name: str
    """Service name; part of the license address. Default: ``flexlmserver``."""
    client_namespace: Required[pulumi.Input[str]]
    """Namespace of the Flow headnode, the only client allowed to reach the server."""
    client_labels: Required[dict[str, str]]
    """Pod labels of the Flow headnode."""
    protect: bool
    """Protect the license volume from deletion (prd). Default: ``false``."""
    priority_class_name: str
    """PriorityClass of the pod (the headnode's): it is scheduled, preempting, before batch pods.
    Default: none."""
    image_pull_secrets: list[str]
    """Secrets in the namespace to pull an upstream image with. Default: none (the mirror's image)."""


ARGS = v.ArgsSpec(
    "FlexLMServer",
    FlexLMServerArgs,
    {
        "namespace": v.namespace_name,
        "env": v.label_value,
        "image": v.image_reference,
        "license": v.non_empty_text,
        "storage_class": v.object_name,
        "service_name": v.dns_label,
        "client_namespace": v.namespace_name,
        "client_labels": v.labels,
        "protect": v.boolean,
        "priority_class_name": v.object_name,
        "image_pull_secrets": v.list_of(v.object_name),
    },
)


class FlexLMServer(pulumi.ComponentResource):
    """One FlexLM server: a single-replica Recreate Deployment, its Service, volume and license.

    Why the exception to ``restricted``: Partek's image creates a network interface carrying the
    license's MAC address before starting lmgrd, which needs ``CAP_NET_ADMIN``. Kubernetes has no
    ambient capabilities, so an added capability is only effective for UID 0; the container
    therefore runs as root with *only* NET_ADMIN (everything else dropped, no privilege
    escalation, seccomp RuntimeDefault, read-only root filesystem). Pod Security Admission's
    ``baseline`` forbids NET_ADMIN, so this pod lives alone in a namespace whose ``enforce`` level
    is ``privileged`` while ``warn`` and ``audit`` stay ``restricted``.
    """

    license_address: pulumi.Output[str]
    """``27000@flexlmserver.<namespace>.svc``: the headnode's ``PARTEKLM_LICENSE_FILE``."""
    service_name: pulumi.Output[str]
    """The Service's name."""

    def __init__(self, name: str, args: FlexLMServerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:FlexLMServer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = args["namespace"]
        env = args["env"]
        service_name = args.get("service_name", DEFAULT_SERVICE_NAME)
        labels = standard_labels(NAME, env, SYSTEM, component="license-server")
        selector = license_server_selector(env)

        license_secret = k8s.core.v1.Secret(
            f"{name}-license",
            metadata={"name": "flexlm-license", "namespace": namespace, "labels": labels},
            type="Opaque",
            string_data={LICENSE_FILE: pulumi.Output.secret(args["license"])},
            opts=child,
        )
        claim = volume_claim(
            f"{name}-volume",
            "flexlmserver-pvc",
            namespace,
            "10Gi",
            args["storage_class"],
            "ReadWriteOnce",
            labels,
            args.get("protect", False),
            child,
        )
        pod_spec = flexlm_pod_spec(
            args["image"],
            "flexlm-license",
            "flexlmserver-pvc",
            args.get("priority_class_name"),
            args.get("image_pull_secrets", []),
        )
        # cluster-scoped, so named after the namespace; only this pod shape is admitted there
        policy_name = pulumi.Output.from_input(namespace).apply(lambda ns: f"flexlm-pod-shape-{ns}")
        policy_spec: Any = pulumi.Output.from_input(args["image"]).apply(flexlm_policy_spec)
        policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            f"{name}-admission-policy",
            metadata={"name": policy_name, "labels": labels},
            spec=policy_spec,
            opts=child,
        )
        binding_spec: Any = pulumi.Output.all(policy_name, namespace).apply(
            lambda pn: flexlm_binding_spec(*pn)
        )
        binding = k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            f"{name}-admission-binding",
            metadata={"name": policy_name, "labels": labels},
            spec=binding_spec,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[policy])),
        )
        # one pod serves every license check: a drain waits for a planned move (see the README)
        single_pod_deployment(
            name,
            NAME,
            namespace,
            labels,
            selector,
            pod_spec,
            STARTUP_SECONDS,
            GRACE_SECONDS,
            [*component_depends_on(opts), license_secret, claim, policy, binding],
            child,
            # the init container copies the license once per start: a new license must roll the pod
            pod_annotations=checksum_annotations({"license": args["license"]}),
        )
        svc = service(
            f"{name}-service",
            service_name,
            namespace,
            labels,
            selector,
            [service_port("lmgrd", LMGRD_PORT), service_port("vendor", VENDOR_PORT)],
            child,
        )
        client = pod_peer(args["client_labels"], args["client_namespace"])
        network_policy(
            f"{name}-allow-clients",
            namespace,
            "flexlmserver-allow-headnode",
            ingress_spec(selector, [client], ports(LMGRD_PORT, VENDOR_PORT)),
            labels,
            child,
        )
        network_policy(
            f"{name}-allow-dns", namespace, "flexlmserver-allow-dns", dns_egress_spec(selector), labels, child
        )

        self.service_name = svc.metadata.name
        # the namespace may be an Output (a chained NamespaceGuardrails.namespace_name): never format it
        self.license_address = pulumi.Output.from_input(namespace).apply(
            lambda ns: service_license_address(service_name, ns)
        )
        self.register_outputs({"license_address": self.license_address, "service_name": self.service_name})


def license_install_script(source: str, directory: str, file: str) -> str:
    """Install ``source`` as ``directory/file`` (0444) on every start, replacing an older copy.

    The installer is UID 0 with every capability dropped: without CAP_DAC_OVERRIDE it cannot open
    the previous read-only copy for writing, so ``cp`` onto it fails on the second start. Writing a
    new file and renaming it over the old one needs write permission on the directory only, which
    the volume's root-owned root directory gives UID 0 as its owner.
    """
    staged = f"{directory}/.{file}.new"
    return (
        f"set -eu; rm -f '{staged}'; cp '{source}' '{staged}'; chmod 0444 '{staged}';"
        f" mv -f '{staged}' '{directory}/{file}'"
    )


def flexlm_pod_spec(
    image: pulumi.Input[str],
    secret_name: str,
    claim_name: str,
    priority_class_name: str | None = None,
    image_pull_secrets: list[str] | None = None,
) -> dict[str, Any]:
    """The license server pod: an init container installs the license, lmgrd runs with NET_ADMIN."""
    root_only_net_admin = {
        **restricted_container_security_context(add_capabilities=("NET_ADMIN",)),
        # see FlexLMServer's docstring: added capabilities are effective only for UID 0
        "runAsNonRoot": False,
        "runAsUser": 0,
        "runAsGroup": 0,
    }
    installer_context = {
        **restricted_container_security_context(),
        # writes into the root-owned license volume; no capabilities at all
        "runAsNonRoot": False,
        "runAsUser": 0,
        "runAsGroup": 0,
    }
    mounts = [{"name": "licenses", "mountPath": LICENSE_DIR}]
    return {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "terminationGracePeriodSeconds": GRACE_SECONDS,
        **scheduling_fields(priority_class_name, image_pull_secrets),
        "initContainers": [
            {
                "name": "install-license",
                "image": image,
                "command": [
                    "sh",
                    "-c",
                    license_install_script(f"/license-src/{LICENSE_FILE}", LICENSE_DIR, LICENSE_FILE),
                ],
                "securityContext": installer_context,
                "resources": container_resources("100m", "64Mi", "64Mi"),
                "volumeMounts": [
                    *mounts,
                    {"name": "license-src", "mountPath": "/license-src", "readOnly": True},
                ],
            }
        ],
        "containers": [
            {
                "name": NAME,
                "image": image,
                "ports": [
                    {"name": "lmgrd", "containerPort": LMGRD_PORT, "protocol": "TCP"},
                    {"name": "vendor", "containerPort": VENDOR_PORT, "protocol": "TCP"},
                ],
                "resources": container_resources("100m", "128Mi", "256Mi", cpu_limit="1"),
                "securityContext": root_only_net_admin,
                **tcp_probes(LMGRD_PORT, startup_seconds=STARTUP_SECONDS),
                "volumeMounts": [
                    *mounts,
                    {"name": "tmp", "mountPath": "/tmp"},
                    {"name": "var-tmp", "mountPath": "/var/tmp"},  # FlexLM lock files
                ],
            }
        ],
        "volumes": [
            {"name": "licenses", "persistentVolumeClaim": {"claimName": claim_name}},
            {"name": "license-src", "secret": {"secretName": secret_name, "defaultMode": 0o400}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
            {"name": "var-tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        ],
    }
