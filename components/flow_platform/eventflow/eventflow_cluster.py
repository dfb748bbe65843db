"""An EventFlow (Spotfire/TIBCO Streaming) application cluster: nodes as a StatefulSet, least privilege.

Shaped after the vendor sample (see :mod:`flow_platform.eventflow.nodes` for the source) with its
unsafe parts replaced: a namespaced Role on the node's own account instead of cluster-admin bound to
``default``; admin credentials and the keystore password from a Secret instead of ``tibco``/``tibco``;
restricted Pod Security with a numeric UID and a read-only root; a startup probe instead of a 240 s
initial delay; the cluster monitor behind a ClusterIP Service and an HTTPS Ingress, never a NodePort.
"""

import re
from collections.abc import Mapping
from typing import Any, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .. import PACKAGE
from .. import validation as v
from ..k8s.ingress import https_ingress_annotations, https_ingress_spec
from ..k8s.labels import selector_labels, standard_labels
from ..k8s.network import (
    api_server_egress_spec,
    dns_egress_spec,
    ingress_spec,
    network_policies,
    pod_peer,
    ports,
)
from ..k8s.rbac import service_account_with_role
from ..k8s.resources import container_resources
from ..k8s.rollout import checksum_annotations, rollout_timeouts
from ..k8s.security import restricted_container_security_context, restricted_pod_security_context
from ..k8s.workload import (
    component_depends_on,
    pod_disruption_budget,
    spread_across_zones_and_nodes,
    tcp_probes,
)
from .nodes import (
    CONFIGURATION_DIR,
    EVENTFLOW_PORT,
    HEALTH_PATH,
    HEALTH_PORT,
    HOME_DIR,
    MONITOR_NAME,
    MONITOR_PORT,
    MONITOR_REPLICAS,
    NODE_DIR,
    NODE_UID,
    RESOURCES_DIR,
    SYSTEM,
    discovery_name_problem,
    discovery_service_names,
    node_memory_limit,
    node_role_rules,
)
from .scripts import (
    CREDENTIALS_DIR,
    KEYSTORE_PASSWORD_KEY,
    PASSWORD_KEY,
    PROBE,
    SCRIPTS_DIR,
    START_MONITOR,
    START_NODE,
    USERNAME_KEY,
    scripts,
)

DEFAULT_REPLICAS = 3
DEFAULT_CPU = "1"
DEFAULT_MEMORY = "2Gi"
DEFAULT_SHARED_MEMORY = "512Mi"
DEFAULT_NODE_STORAGE = "2Gi"
DEFAULT_STARTUP_SECONDS = 600
DEFAULT_CLIENT_PORTS = [HEALTH_PORT]
MONITOR_DEFAULT_CPU = "500m"
MONITOR_DEFAULT_MEMORY = "1Gi"
MONITOR_DEFAULT_SHARED_MEMORY = "256Mi"
DEFAULT_INGRESS_CLASS = "nginx"
MONITOR_DEFAULT_TLS_SECRET = f"{MONITOR_NAME}-tls"
DEFAULT_INGRESS_CONTROLLER_NAMESPACE = "ingress-nginx"
DEFAULT_INGRESS_CONTROLLER_LABELS = {"app.kubernetes.io/name": "ingress-nginx"}
DEFAULT_API_SERVER_PORT = 443
GRACE_SECONDS = 60
"""``epadmin stop node`` on SIGTERM: the node leaves the cluster before the pod goes."""
MEMBER_LABEL = "flow-platform/eventflow-cluster"
"""On nodes and the monitor: the pods that talk to each other on dynamic ports."""
TMP_SIZE = "1Gi"
HOME_SIZE = "256Mi"

CONFIG_FILE = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
UNSAFE_CREDENTIAL = re.compile(r"[\s\"'\\:]")
"""What would break the start script's ``--username=``/``--password=`` words or the probe's
``user = "<name>:<password>"`` curl config line."""


class EventFlowClient(TypedDict, total=False):
    """Pods allowed to reach the nodes' web services (8008) and the other ``client_ports``."""

    namespace: Required[pulumi.Input[str]]
    """The clients' namespace."""
    pod_labels: dict[str, str]
    """The clients' pod labels. Default: every pod of the namespace."""


class EventFlowMonitorArgs(TypedDict, total=False):
    """The optional cluster monitor (a Streaming node running the product's cluster-monitor app)."""

    image: Required[pulumi.Input[str]]
    """Cluster monitor image (the product's base image: the start script comes from a ConfigMap),
    pinned."""
    cpu: str
    """CPU request. Default: ``500m``."""
    memory: str
    """Memory of the process. Default: ``1Gi``."""
    shared_memory: str
    """Shared memory, added to the memory limit and the size of ``/dev/shm``. Default: ``256Mi``."""
    ingress_host: str
    """Host of the LiveView web UI, HTTPS only. Default: none (reach it with
    ``kubectl port-forward svc/clustermonitor 11080``)."""
    ingress_class: str
    """IngressClass. Default: ``nginx``."""
    tls_secret: str
    """TLS Secret of the host. Default: ``clustermonitor-tls``."""
    cluster_issuer: str
    """cert-manager ClusterIssuer that issues the TLS Secret. Default: none."""


class EventFlowClusterArgs(TypedDict, total=False):
    """Inputs of :class:`EventFlowCluster`."""

    namespace: Required[pulumi.Input[str]]
    """The application's namespace (one application cluster per namespace with a monitor)."""
    env: Required[str]
    """Environment (labels and selectors)."""
    app_name: Required[str]
    """Application name: StatefulSet, governing Service and ``APPNAME``. With the namespace and the
    highest ordinal it forms each node's discovery Service name, which must fit 63 characters."""
    image: Required[pulumi.Input[str]]
    """Application image (the customer's, through the ECR mirror), pinned."""
    replicas: int
    """Streaming nodes. Default: ``3``."""
    node_uid: int
    """Numeric UID/GID of the image's ``tibco`` user. Default: ``1000`` (``useradd`` on almalinux:8)."""
    cpu: str
    """CPU request per node. Default: ``1``."""
    cpu_limit: str
    """CPU limit per node. Default: none (no throttling of the JVM)."""
    memory: str
    """Memory of the node process (JVM heap and native). Default: ``2Gi``."""
    shared_memory: str
    """System V shared memory of the node: charged to the container's memory cgroup, so it is added
    to the memory request and limit, and sizes the memory-backed ``/dev/shm``. Default: ``512Mi``."""
    node_storage: str
    """Size of the node directory (an emptyDir: the start script deletes it on every start).
    Default: ``2Gi``."""
    admin_username: Required[pulumi.Input[str]]
    """Admin user the node is installed with (no whitespace, quotes, backslash or colon)."""
    admin_password: Required[pulumi.Input[str]]
    """Its password, a secret (no whitespace, quotes, backslash or colon)."""
    keystore_password: pulumi.Input[str]
    """Password of the keystore with the master secret, a secret. Default: none."""
    configuration: dict[str, str]
    """Files of the ``configuration`` ConfigMap, mounted at /var/opt/tibco/streambase/configuration.
    Default: none."""
    node_deploy: str
    """The file of ``configuration`` that is the node deploy configuration (``STREAMING_NODEDEPLOY``).
    Default: none (the archive's)."""
    resources: dict[str, str]
    """Files of the ``resources`` ConfigMap, mounted at /var/opt/tibco/streambase/resources.
    Default: none."""
    health_credentials: bool
    """The health check needs the admin credentials: probe with an exec of curl reading the mounted
    Secret (an ``httpGet`` header would be a literal in the pod spec). Default: ``false``."""
    startup_seconds: int
    """How long a node may take to install and start before liveness applies. Default: ``600``."""
    node_port_range_start: int
    """First port of a pinned node-to-node range (the node config pins its listeners); with
    ``node_port_range_end``. Default: none (all TCP ports between the application's pods)."""
    node_port_range_end: int
    """Last port of the pinned range. Default: none."""
    clients: list[EventFlowClient]
    """Who may reach ``client_ports`` on the nodes. Default: nobody."""
    client_ports: list[int]
    """Ports clients reach. Default: ``8008`` only (web services); add 10000 for the EventFlow server."""
    monitor: EventFlowMonitorArgs
    """The cluster monitor. Default: none."""
    ingress_controller_namespace: str
    """Namespace of the ingress controller (reaches the monitor's 11080). Default: ``ingress-nginx``."""
    ingress_controller_labels: dict[str, str]
    """Its pod labels. Default: ``app.kubernetes.io/name: ingress-nginx``."""
    api_server_cidrs: Required[list[str]]
    """The API server's addresses (each node publishes its discovery Service)."""
    api_server_port: int
    """Its port. Default: ``443``."""
    zone_spread: bool
    """Spread the nodes across zones and hosts. Default: ``false``."""


@v.described("a user name or password without whitespace, quotes, backslash or colon")
def credential(value: object) -> str:
    """Never echoes the value: it may be a secret."""
    if not isinstance(value, str) or not value or UNSAFE_CREDENTIAL.search(value):
        raise ValueError(
            "expected a non-empty value without whitespace, quotes, backslash or colon (it is passed"
            " to epadmin as --username=/--password= and to the probe's curl as user:password)"
        )
    return value


@v.described("a file name: letters, digits, '-', '_' and '.' (a ConfigMap key)")
def config_file_name(value: object) -> str:
    name = v.text(value)
    if not CONFIG_FILE.match(name) or name in (".", ".."):
        raise ValueError(f"{name!r} is not a file name: letters, digits, '-', '_' and '.' (a ConfigMap key)")
    return name


def _node_deploy_in_configuration(args: Mapping[str, Any]) -> str | None:
    name = args.get("node_deploy")
    if name is not None and name not in args.get("configuration", {}):
        files = ", ".join(sorted(args.get("configuration", {}))) or "none"
        return f"{name!r} is not a file of configuration (files: {files})"
    return None


def _port_range(args: Mapping[str, Any]) -> str | None:
    start, end = args.get("node_port_range_start"), args.get("node_port_range_end")
    if (start is None) != (end is None):
        return "node_port_range_start and node_port_range_end go together"
    if start is not None and end is not None and start > end:
        return f"the range {start}-{end} is empty: start is above end"
    return None


def _discovery_names(args: Mapping[str, Any]) -> str | None:
    namespace = args.get("namespace")
    if not isinstance(namespace, str):
        return None  # an Output: the stack config checks the same rule with the known name
    return discovery_name_problem(args["app_name"], namespace, args.get("replicas", DEFAULT_REPLICAS))


MONITOR_ARGS = v.ArgsSpec(
    "EventFlowMonitorArgs",
    EventFlowMonitorArgs,
    {
        "image": v.image_reference,
        "cpu": v.cpu,
        "memory": v.memory,
        "shared_memory": v.memory,
        "ingress_host": v.hostname,
        "ingress_class": v.object_name,
        "tls_secret": v.object_name,
        "cluster_issuer": v.object_name,
    },
)
CLIENT_ARGS = v.ArgsSpec(
    "EventFlowClient", EventFlowClient, {"namespace": v.namespace_name, "pod_labels": v.labels}
)
ARGS = v.ArgsSpec(
    "EventFlowCluster",
    EventFlowClusterArgs,
    {
        "namespace": v.namespace_name,
        "env": v.label_value,
        "app_name": v.dns_label,
        "image": v.image_reference,
        "replicas": v.positive_int,
        "node_uid": v.positive_int,
        "cpu": v.cpu,
        "cpu_limit": v.cpu,
        "memory": v.memory,
        "shared_memory": v.memory,
        "node_storage": v.storage,
        "admin_username": credential,
        "admin_password": credential,
        "keystore_password": v.non_empty_text,
        "configuration": v.map_of(v.text, keys=config_file_name),
        "node_deploy": config_file_name,
        "resources": v.map_of(v.text, keys=config_file_name),
        "health_credentials": v.boolean,
        "startup_seconds": v.positive_int,
        "node_port_range_start": v.port,
        "node_port_range_end": v.port,
        "clients": v.list_of(CLIENT_ARGS),
        "client_ports": v.list_of(v.port, min_length=1),
        "monitor": MONITOR_ARGS,
        "ingress_controller_namespace": v.namespace_name,
        "ingress_controller_labels": v.labels,
        "api_server_cidrs": v.list_of(v.cidr, min_length=1),
        "api_server_port": v.port,
        "zone_spread": v.boolean,
    },
    rules=[
        v.rule("node_deploy", _node_deploy_in_configuration),
        v.rule("node_port_range_start", _port_range),
        v.rule("app_name", _discovery_names),
        v.not_below("cpu_limit", "cpu", DEFAULT_CPU),
    ],
)


def node_selector(app: str, env: str) -> dict[str, str]:
    return selector_labels(app, env)


def monitor_selector(env: str) -> dict[str, str]:
    return selector_labels(MONITOR_NAME, env)


def member_ports(start: int | None, end: int | None) -> list[dict[str, Any]]:
    """Node-to-node ports: every TCP port (the listeners bind ephemeral ports per start), or the
    pinned range plus the web services port the discovery Service's ``http`` maps to."""
    if start is None or end is None:
        return [{"protocol": "TCP"}]
    pinned: dict[str, Any] = {"protocol": "TCP", "port": start}
    if end > start:
        pinned["endPort"] = end
    extra = [] if start <= HEALTH_PORT <= end else ports(HEALTH_PORT)
    return [pinned, *extra]


def members_spec(app: str, port_list: list[dict[str, Any]]) -> dict[str, Any]:
    """Nodes and the monitor of one application, to and from each other, on ``port_list``."""
    members = {MEMBER_LABEL: app}
    return {
        "podSelector": {"matchLabels": members},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [pod_peer(members)], "ports": port_list}],
        "egress": [{"to": [pod_peer(members)], "ports": port_list}],
    }


def health_probes(credentials: bool, startup_seconds: int) -> dict[str, Any]:
    """Startup, readiness and liveness on ``/healthcheck/v1/status``; an exec probe where the check
    needs credentials (they stay in the mounted Secret)."""
    period = 10
    action: dict[str, Any] = (
        {"exec": {"command": ["/bin/sh", f"{SCRIPTS_DIR}/{PROBE}"]}}
        if credentials
        else {"httpGet": {"path": HEALTH_PATH, "port": "http"}}
    )
    return {
        "startupProbe": {
            **action,
            "periodSeconds": period,
            "failureThreshold": max(1, startup_seconds // period),
            "timeoutSeconds": 5,
        },
        "readinessProbe": {**action, "periodSeconds": period, "failureThreshold": 3, "timeoutSeconds": 5},
        "livenessProbe": {**action, "periodSeconds": period, "failureThreshold": 6, "timeoutSeconds": 5},
    }


def _field_env(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}


def writable_volumes(
    node_storage: str, shared_memory: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """emptyDirs where a node writes on a read-only root: its node directory, /tmp (the JVM), the
    home directory (epadmin, the JVM's user prefs) and a memory-backed /dev/shm of the shared size."""
    volumes = [
        {"name": "node", "emptyDir": {"sizeLimit": node_storage}},
        {"name": "tmp", "emptyDir": {"sizeLimit": TMP_SIZE}},
        {"name": "home", "emptyDir": {"sizeLimit": HOME_SIZE}},
        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": shared_memory}},
    ]
    mounts = [
        {"name": "node", "mountPath": NODE_DIR},
        {"name": "tmp", "mountPath": "/tmp"},
        {"name": "home", "mountPath": HOME_DIR},
        {"name": "shm", "mountPath": "/dev/shm"},
    ]
    return volumes, mounts


def _secret_volumes(app: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    volumes = [
        {"name": "scripts", "configMap": {"name": f"{app}-scripts", "defaultMode": 0o555}},
        {"name": "admin", "secret": {"secretName": f"{app}-admin", "defaultMode": 0o440}},
    ]
    mounts = [
        {"name": "scripts", "mountPath": SCRIPTS_DIR, "readOnly": True},
        {"name": "admin", "mountPath": CREDENTIALS_DIR, "readOnly": True},
    ]
    return volumes, mounts


def node_pod_spec(args: Mapping[str, Any], account: str) -> dict[str, Any]:
    """The node pod, from checked args."""
    app, uid = args["app_name"], args.get("node_uid", NODE_UID)
    memory = node_memory_limit(
        args.get("memory", DEFAULT_MEMORY), args.get("shared_memory", DEFAULT_SHARED_MEMORY)
    )
    env = [
        _field_env("POD_NAME", "metadata.name"),
        _field_env("POD_NAMESPACE", "metadata.namespace"),
        _field_env("POD_IP", "status.podIP"),
        {"name": "APPNAME", "value": app},
        {"name": "STREAMING_NODENAME", "value": "$(POD_NAME).$(POD_NAMESPACE).$(APPNAME)"},
        {"name": "HOME", "value": HOME_DIR},
    ]
    if args.get("node_deploy"):
        env.append({"name": "STREAMING_NODEDEPLOY", "value": f"{CONFIGURATION_DIR}/{args['node_deploy']}"})
    writable, writable_mounts = writable_volumes(
        args.get("node_storage", DEFAULT_NODE_STORAGE), args.get("shared_memory", DEFAULT_SHARED_MEMORY)
    )
    secret_volumes, secret_mounts = _secret_volumes(app)
    container = {
        "name": "node",
        "image": args["image"],
        "command": ["/bin/sh", f"{SCRIPTS_DIR}/{START_NODE}"],
        "env": env,
        "ports": [
            {"name": "http", "containerPort": HEALTH_PORT, "protocol": "TCP"},
            {"name": "eventflow", "containerPort": EVENTFLOW_PORT, "protocol": "TCP"},
        ],
        "resources": container_resources(args.get("cpu", DEFAULT_CPU), memory, memory, args.get("cpu_limit")),
        "securityContext": restricted_container_security_context(),
        **health_probes(
            args.get("health_credentials", False), args.get("startup_seconds", DEFAULT_STARTUP_SECONDS)
        ),
        "volumeMounts": [
            {"name": "configuration", "mountPath": CONFIGURATION_DIR, "readOnly": True},
            {"name": "resources", "mountPath": RESOURCES_DIR, "readOnly": True},
            *secret_mounts,
            *writable_mounts,
        ],
    }
    pod: dict[str, Any] = {
        "serviceAccountName": account,
        # each node publishes its own discovery Service through the API
        "automountServiceAccountToken": True,
        # a Service per node in the namespace: their docker-link variables would crowd the env
        "enableServiceLinks": False,
        "securityContext": restricted_pod_security_context(uid, uid, fs_group=uid),
        "terminationGracePeriodSeconds": GRACE_SECONDS,
        "containers": [container],
        "volumes": [
            {"name": "configuration", "configMap": {"name": f"{app}-configuration"}},
            {"name": "resources", "configMap": {"name": f"{app}-resources"}},
            *secret_volumes,
            *writable,
        ],
    }
    if args.get("zone_spread"):
        pod["topologySpreadConstraints"] = spread_across_zones_and_nodes(node_selector(app, args["env"]))
    return pod


def monitor_pod_spec(args: Mapping[str, Any], monitor: Mapping[str, Any]) -> dict[str, Any]:
    """The cluster monitor pod, from checked args."""
    uid = args.get("node_uid", NODE_UID)
    shared = monitor.get("shared_memory", MONITOR_DEFAULT_SHARED_MEMORY)
    memory = node_memory_limit(monitor.get("memory", MONITOR_DEFAULT_MEMORY), shared)
    writable, writable_mounts = writable_volumes(DEFAULT_NODE_STORAGE, shared)
    secret_volumes, secret_mounts = _secret_volumes(args["app_name"])
    container = {
        "name": MONITOR_NAME,
        "image": monitor["image"],
        "command": ["/bin/sh", f"{SCRIPTS_DIR}/{START_MONITOR}"],
        "env": [
            _field_env("POD_NAME", "metadata.name"),
            _field_env("POD_NAMESPACE", "metadata.namespace"),
            {"name": "HOME", "value": HOME_DIR},
        ],
        "ports": [{"name": "lvweb", "containerPort": MONITOR_PORT, "protocol": "TCP"}],
        "resources": container_resources(monitor.get("cpu", MONITOR_DEFAULT_CPU), memory, memory),
        "securityContext": restricted_container_security_context(),
        **tcp_probes("lvweb", startup_seconds=args.get("startup_seconds", DEFAULT_STARTUP_SECONDS)),
        "volumeMounts": [*secret_mounts, *writable_mounts],
    }
    return {
        "serviceAccountName": MONITOR_NAME,
        "automountServiceAccountToken": True,
        "enableServiceLinks": False,
        "securityContext": restricted_pod_security_context(uid, uid, fs_group=uid),
        "terminationGracePeriodSeconds": GRACE_SECONDS,
        "containers": [container],
        "volumes": [*secret_volumes, *writable],
    }


def monitor_ingress_annotations(cluster_issuer: str | None) -> dict[str, str]:
    """HTTPS only; cert-manager issues the certificate when an issuer is named."""
    return https_ingress_annotations(cluster_issuer)


def stateful_set_spec(
    name: str, replicas: int, selector: dict[str, str], labels: dict[str, str], pod: dict[str, Any]
) -> dict[str, Any]:
    """Parallel start (the nodes find each other, none waits for another), rolling updates."""
    return {
        "replicas": replicas,
        "serviceName": name,
        "podManagementPolicy": "Parallel",
        "updateStrategy": {"type": "RollingUpdate"},
        "selector": {"matchLabels": selector},
        "template": {"metadata": {"labels": labels}, "spec": pod},
    }


class EventFlowCluster(pulumi.ComponentResource):
    """Streaming nodes of one EventFlow application as a StatefulSet with a headless governing
    Service, their own service account and namespaced Role (each node publishes its discovery
    Service), admin credentials from a Secret, allow rules for exactly their flows, a disruption
    budget, and optionally the cluster monitor behind an HTTPS Ingress."""

    stateful_set_name: pulumi.Output[str]
    """The nodes' StatefulSet (the application name)."""
    service_name: pulumi.Output[str]
    """The headless governing Service: pods are ``<app>-<n>.<app>.<namespace>.svc``."""
    service_account_name: pulumi.Output[str]
    """The nodes' service account."""
    secret_name: pulumi.Output[str]
    """The Secret with ``username``, ``password`` (and ``keystore-password``)."""
    discovery_services: pulumi.Output[list[str]]
    """The Services the nodes (and the monitor) create for themselves at run time."""
    monitor_service_name: pulumi.Output[str]
    """The monitor's ClusterIP Service on 11080, or empty without a monitor."""
    monitor_url: pulumi.Output[str]
    """The monitor's HTTPS address, or empty without its Ingress."""

    def __init__(
        self, name: str, args: EventFlowClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:EventFlowCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace, env, app = args["namespace"], args["env"], args["app_name"]
        replicas = args.get("replicas", DEFAULT_REPLICAS)
        monitor = args.get("monitor")
        labels = {**standard_labels(app, env, SYSTEM, component="node"), MEMBER_LABEL: app}
        selector = node_selector(app, env)

        account = f"{app}-node"
        rbac = service_account_with_role(
            f"{name}-node", account, namespace, node_role_rules(), labels, child, automount_token=True
        )
        secret_data: dict[str, pulumi.Input[str]] = {
            USERNAME_KEY: pulumi.Output.secret(args["admin_username"]),
            PASSWORD_KEY: pulumi.Output.secret(args["admin_password"]),
        }
        if args.get("keystore_password") is not None:
            secret_data[KEYSTORE_PASSWORD_KEY] = pulumi.Output.secret(args["keystore_password"])
        secret = k8s.core.v1.Secret(
            f"{name}-admin",
            metadata={"name": f"{app}-admin", "namespace": namespace, "labels": labels},
            type="Opaque",
            string_data=secret_data,
            opts=child,
        )
        files = {
            "configuration": args.get("configuration", {}),
            "resources": args.get("resources", {}),
            "scripts": scripts(),
        }
        config_maps = [
            k8s.core.v1.ConfigMap(
                f"{name}-{kind}",
                metadata={"name": f"{app}-{kind}", "namespace": namespace, "labels": labels},
                data=dict(sorted(data.items())),
                opts=child,
            )
            for kind, data in files.items()
        ]
        # the node reads its files and credentials once, at install: a change must roll the pods
        read_once = checksum_annotations({**files, "admin": pulumi.Output.all(*secret_data.values())})
        depends = [*component_depends_on(opts), *rbac, secret, *config_maps]
        startup = args.get("startup_seconds", DEFAULT_STARTUP_SECONDS)
        workload_opts = pulumi.ResourceOptions.merge(
            child,
            pulumi.ResourceOptions(
                depends_on=depends, custom_timeouts=rollout_timeouts(startup, GRACE_SECONDS)
            ),
        )
        spec = stateful_set_spec(app, replicas, selector, labels, node_pod_spec(args, account))
        spec["template"]["metadata"]["annotations"] = read_once
        typed_spec: Any = spec
        stateful_set = k8s.apps.v1.StatefulSet(
            f"{name}-nodes",
            metadata={"name": app, "namespace": namespace, "labels": labels},
            spec=typed_spec,
            opts=workload_opts,
        )
        governing: Any = {
            "clusterIP": "None",
            # nodes discover each other while starting, before they are ready
            "publishNotReadyAddresses": True,
            "selector": selector,
            "ports": [
                {"name": "http", "port": HEALTH_PORT, "targetPort": "http", "protocol": "TCP"},
                {"name": "eventflow", "port": EVENTFLOW_PORT, "targetPort": "eventflow", "protocol": "TCP"},
            ],
        }
        service = k8s.core.v1.Service(
            f"{name}-governing-service",
            metadata={"name": app, "namespace": namespace, "labels": labels},
            spec=governing,
            opts=child,
        )
        # drains take one node at a time: the others keep the cluster's data and partitions
        pod_disruption_budget(f"{name}-disruption-budget", app, namespace, labels, selector, 1, child)
        self._network_policies(name, args, labels, child)

        self.monitor_service_name = pulumi.Output.from_input("")
        self.monitor_url = pulumi.Output.from_input("")
        if monitor is not None:
            self._monitor(name, args, monitor, depends, child)

        self.stateful_set_name = stateful_set.metadata.name
        self.service_name = service.metadata.name
        self.service_account_name = pulumi.Output.from_input(account)
        self.secret_name = secret.metadata.name
        self.discovery_services = pulumi.Output.from_input(namespace).apply(
            lambda ns: discovery_service_names(app, ns, replicas, monitor is not None)
        )
        self.register_outputs(
            {
                "stateful_set_name": self.stateful_set_name,
                "service_name": self.service_name,
                "service_account_name": self.service_account_name,
                "secret_name": self.secret_name,
                "discovery_services": self.discovery_services,
                "monitor_service_name": self.monitor_service_name,
                "monitor_url": self.monitor_url,
            }
        )

    def _network_policies(
        self, name: str, args: Mapping[str, Any], labels: dict[str, str], child: pulumi.ResourceOptions
    ) -> None:
        namespace, env, app = args["namespace"], args["env"], args["app_name"]
        members = {MEMBER_LABEL: app}
        specs: dict[str, dict[str, Any]] = {
            f"{app}-allow-members": members_spec(
                app, member_ports(args.get("node_port_range_start"), args.get("node_port_range_end"))
            ),
            f"{app}-allow-api-server": api_server_egress_spec(
                members, args["api_server_cidrs"], args.get("api_server_port", DEFAULT_API_SERVER_PORT)
            ),
            f"{app}-allow-dns": dns_egress_spec(members),
        }
        clients = args.get("clients", [])
        if clients:
            peers = [pod_peer(c.get("pod_labels", {}), c["namespace"]) for c in clients]
            client_ports = sorted(set(args.get("client_ports", DEFAULT_CLIENT_PORTS)))
            specs[f"{app}-allow-clients"] = ingress_spec(node_selector(app, env), peers, ports(*client_ports))
        monitor = args.get("monitor")
        if monitor is not None and monitor.get("ingress_host"):
            controller = pod_peer(
                args.get("ingress_controller_labels", DEFAULT_INGRESS_CONTROLLER_LABELS),
                args.get("ingress_controller_namespace", DEFAULT_INGRESS_CONTROLLER_NAMESPACE),
            )
            specs[f"{MONITOR_NAME}-allow-ingress-controller"] = ingress_spec(
                monitor_selector(env), [controller], ports(MONITOR_PORT)
            )
        network_policies(name, namespace, specs, labels, child)

    def _monitor(
        self,
        name: str,
        args: Mapping[str, Any],
        monitor: Mapping[str, Any],
        depends: list[pulumi.Resource],
        child: pulumi.ResourceOptions,
    ) -> None:
        namespace, env, app = args["namespace"], args["env"], args["app_name"]
        labels = {
            **standard_labels(MONITOR_NAME, env, SYSTEM, component="cluster-monitor"),
            MEMBER_LABEL: app,
        }
        selector = monitor_selector(env)
        rbac = service_account_with_role(
            f"{name}-monitor", MONITOR_NAME, namespace, node_role_rules(), labels, child, automount_token=True
        )
        startup = args.get("startup_seconds", DEFAULT_STARTUP_SECONDS)
        spec: Any = stateful_set_spec(
            MONITOR_NAME, MONITOR_REPLICAS, selector, labels, monitor_pod_spec(args, monitor)
        )
        k8s.apps.v1.StatefulSet(
            f"{name}-monitor",
            metadata={"name": MONITOR_NAME, "namespace": namespace, "labels": labels},
            spec=spec,
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(
                    depends_on=[*depends, *rbac], custom_timeouts=rollout_timeouts(startup, GRACE_SECONDS)
                ),
            ),
        )
        service_spec: Any = {
            "type": "ClusterIP",
            "selector": selector,
            "ports": [{"name": "lvweb", "port": MONITOR_PORT, "targetPort": "lvweb", "protocol": "TCP"}],
        }
        service = k8s.core.v1.Service(
            f"{name}-monitor-service",
            metadata={"name": MONITOR_NAME, "namespace": namespace, "labels": labels},
            spec=service_spec,
            opts=child,
        )
        self.monitor_service_name = service.metadata.name
        host = monitor.get("ingress_host")
        if not host:
            return
        ingress_spec_ = https_ingress_spec(
            host,
            monitor.get("ingress_class", DEFAULT_INGRESS_CLASS),
            monitor.get("tls_secret", MONITOR_DEFAULT_TLS_SECRET),
            MONITOR_NAME,
            "lvweb",
        )
        k8s.networking.v1.Ingress(
            f"{name}-monitor-ingress",
            metadata={
                "name": MONITOR_NAME,
                "namespace": namespace,
                "labels": labels,
                "annotations": monitor_ingress_annotations(monitor.get("cluster_issuer")),
            },
            spec=ingress_spec_,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[service])),
        )
        self.monitor_url = pulumi.Output.from_input(f"https://{host}/")
