"""Pure decisions about EventFlow (Spotfire/TIBCO Streaming) nodes on Kubernetes.

Every fact here is read from spotfiresoftware/tibco-streaming-samples (commit 23a4b93, 2023),
``docker/ef-kubernetes/ef-kubernetes-app``: ``src/main/kubernetes/*.yaml`` (the StatefulSet, the
cluster monitor), ``src/main/docker/base/{Dockerfile,start-node}`` (paths, the ``tibco`` user, how the
node name is built) and ``src/site/markdown/index.md`` (service discovery, its ports and names).
"""

from ..k8s.quantity import Quantity
from ..validation import DNS_LABEL

SYSTEM = "eventflow"
RUNTIME_HOME = "/var/opt/tibco/streambase"
"""``STREAMING_RUNTIME_HOME`` of the base image: the application archive is in ``application/``."""
CONFIGURATION_DIR = f"{RUNTIME_HOME}/configuration"
"""Where the sample mounts its ``configuration`` ConfigMap (node deploy and other HOCON files)."""
RESOURCES_DIR = f"{RUNTIME_HOME}/resources"
"""Where the sample mounts its ``resources`` ConfigMap."""
NODE_DIR = f"{RUNTIME_HOME}/node"
"""``--nodedirectory`` of ``epadmin install node``: the only place a node writes its state. The
start script deletes the node's directory on every start, so nothing here outlives a pod."""
HOME_DIR = "/home/tibco"
"""Home of the image's ``tibco`` user (``useradd --create-home``); the JVM and epadmin write here."""
NODE_UID = 1000
"""The base image creates ``tibco`` with ``useradd`` on almalinux:8 and switches to it by name
(``USER ${USER_NAME}``): the first user UID/GID there is 1000. Restricted Pod Security needs the
number, so it is set explicitly (and is configurable for images built otherwise)."""

HEALTH_PORT = 8008
"""The node's web services (``webServiceBindings``); the discovery Service maps ``http`` 80 to it."""
HEALTH_PATH = "/healthcheck/v1/status"
EVENTFLOW_PORT = 10000
"""``sbd`` (the EventFlow server) listens here (the sample's log: ``sbd at <pod>...:10000``)."""
MONITOR_PORT = 11080
"""The cluster monitor's LiveView web (``lvweb``)."""
DISCOVERY_PORTS = {"administration": 2000, "http": 80, "distribution": 3000}
"""Fixed ports of each node's discovery Service; their target ports change on every start (the
administration and distribution listeners bind ephemeral ports unless the node config pins them)."""
MONITOR_NAME = "clustermonitor"
"""The sample's name for the monitor's StatefulSet and Service. Kept: the application's
``security.conf`` trusts ``*.clustermonitor.<namespace>.svc.cluster.local``."""
MONITOR_REPLICAS = 1

DNS_LABEL_MAX = 63


def node_name(pod: str, namespace: str, app: str) -> str:
    """The Streaming node name the start script uses.

    The StatefulSet sets ``STREAMING_NODENAME=$(POD_NAME).$(POD_NAMESPACE).$(APPNAME)`` and
    ``start-node`` removes every ``-`` (``tr -d '-'``): "service discovery doesn't allow for '-'".
    """
    return f"{pod}.{namespace}.{app}".replace("-", "")


def monitor_node_name(pod: str) -> str:
    """``start-cluster-monitor``: ``$(hostname).clustermonitor`` with ``-`` removed."""
    return f"{pod}.{MONITOR_NAME}".replace("-", "")


def discovery_service_name(streaming_node_name: str) -> str:
    """The Service a node creates for itself: its node name with ``.`` as ``-``
    (``ef-kubernetes-app-0`` in ``default`` publishes ``efkubernetesapp0-default-efkubernetesapp``)."""
    return streaming_node_name.replace(".", "-")


def pod_names(app: str, replicas: int) -> list[str]:
    """StatefulSet pod names ``<app>-<ordinal>``."""
    return [f"{app}-{ordinal}" for ordinal in range(replicas)]


def discovery_service_names(app: str, namespace: str, replicas: int, monitor: bool) -> list[str]:
    """Every Service the nodes (and the monitor) create at run time."""
    names = [discovery_service_name(node_name(pod, namespace, app)) for pod in pod_names(app, replicas)]
    if monitor:
        names += [
            discovery_service_name(monitor_node_name(pod))
            for pod in pod_names(MONITOR_NAME, MONITOR_REPLICAS)
        ]
    return names


def discovery_name_problem(app: str, namespace: str, replicas: int) -> str | None:
    """Why a node could not publish its discovery Service, or None.

    A Service name is a DNS-1035 label: at most 63 characters, starting with a letter. The longest is
    the highest ordinal's; the check runs at config time because a node that cannot create its
    Service starts, fails discovery, and never joins the cluster.
    """
    if not app[:1].isalpha():
        return f"{app!r} must start with a letter: the node's discovery Service name starts with it"
    longest = discovery_service_name(node_name(f"{app}-{replicas - 1}", namespace, app))
    if len(longest) > DNS_LABEL_MAX or not DNS_LABEL.match(longest):
        return (
            f"the discovery Service of node {replicas - 1} would be {longest!r} ({len(longest)} characters); "
            f"Service names are at most {DNS_LABEL_MAX}: shorten the application name or the namespace "
            "(both appear in it without their '-')"
        )
    return None


def runtime_service_count(replicas: int, monitor: bool) -> int:
    """Services the nodes create at run time: one per node, one for the monitor."""
    return replicas + (MONITOR_REPLICAS if monitor else 0)


def static_service_count(monitor: bool) -> int:
    """Services the component itself creates: the governing one, and the monitor's."""
    return 1 + (1 if monitor else 0)


def services_needed(replicas: int, monitor: bool) -> int:
    """The namespace quota's ``services`` must be at least this, or nodes fail to publish themselves."""
    return static_service_count(monitor) + runtime_service_count(replicas, monitor)


def node_memory_limit(memory: str, shared_memory: str) -> str:
    """The container's memory limit: the process memory plus the shared memory.

    The sample's application runs ``memoryType = SYSTEM_V_SHARED_MEMORY``: System V segments (and a
    memory-backed ``/dev/shm``) are charged to the container's memory cgroup, so a limit sized for the
    JVM alone gets the node OOM-killed as soon as the shared memory fills.
    """
    total = Quantity.parse(memory).value + Quantity.parse(shared_memory).value
    mib = 2**20
    if total % mib == 0:
        return f"{int(total // mib)}Mi"
    return str(int(total))


def node_role_rules() -> list[dict[str, object]]:
    """What a node does with the API: publish, update and remove its own discovery Service, and read
    pods. The sample binds cluster-admin; its documentation lists seven verbs on services and pods."""
    return [
        {
            "apiGroups": [""],
            "resources": ["services"],
            "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
        },
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    ]
