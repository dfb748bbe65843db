"""Elastic Partek Flow workers: the headnode's image started in worker mode."""

from typing import Any, Required, TypedDict

import pulumi

from .. import PACKAGE
from .. import validation as v
from ..k8s.labels import selector_labels, standard_labels
from ..k8s.network import dns_egress_spec, egress_spec, ingress_spec, network_policy, pod_peer, ports
from ..k8s.resources import container_resources
from ..k8s.security import restricted_container_security_context, restricted_pod_security_context
from ..k8s.workload import (
    component_depends_on,
    deployment,
    pod_disruption_budget,
    scheduling_fields,
    spread_across_zones_and_nodes,
)
from .flow_headnode import AKKA_PORT, FLOW_UID, LICENSING_PORT, WORKER_LABELS_NAME, WORKER_PORT
from .flow_headnode import NAME as HEADNODE

SYSTEM = "partek"
DEFAULT_COMMAND = ["/opt/partek_flow/start_flow_worker.sh"]
"""Assumed launcher of the worker in Partek's image; confirm it with Partek for your image version
and override ``command``/``args`` in config (the seed only says workers reach flowheadnode:2552)."""
DEFAULT_TERMINATION_GRACE_SECONDS = 3600
"""How long a stopping worker may take to finish the task it runs before it is killed."""


DEFAULT_REPLICAS = 0
DEFAULT_ARGS = [HEADNODE, str(AKKA_PORT)]
"""The worker's arguments: the headnode Service and its akka port."""


class FlowWorkersArgs(TypedDict, total=False):
    """Inputs of :class:`FlowWorkers`."""

    namespace: Required[pulumi.Input[str]]
    """The Flow namespace (the headnode's)."""
    env: Required[str]
    """Environment; workers find the headnode of the same ``deployment: <env>``."""
    image: Required[pulumi.Input[str]]
    """The same image as the headnode, pinned."""
    replicas: int
    """Number of workers (zero allowed, e.g. in dev). Default: ``0``."""
    cpu: Required[str]
    """CPU request per worker."""
    memory: Required[str]
    """Memory request per worker."""
    memory_limit: str
    """Memory limit per worker. Default: the memory request."""
    command: list[str]
    """Worker start command. Default: ``/opt/partek_flow/start_flow_worker.sh``."""
    args: list[str]
    """Its arguments. Default: ``flowheadnode 2552`` (the headnode Service and akka port)."""
    env_vars: dict[str, str]
    """Extra environment variables. Default: none."""
    home_claim: Required[pulumi.Input[str]]
    """The headnode's /home/flow ReadWriteMany claim."""
    port: int
    """The worker's pinned Akka port, which the headnode dials. Default: ``2552``."""
    termination_grace_seconds: int
    """Seconds a stopping worker may take to finish its running task. Default: ``3600``."""
    image_pull_secrets: list[str]
    """Secrets in the namespace to pull an upstream image with. Default: none (the mirror's image)."""


ARGS = v.ArgsSpec(
    "FlowWorkers",
    FlowWorkersArgs,
    {
        "namespace": v.namespace_name,
        "env": v.label_value,
        "image": v.image_reference,
        "replicas": v.non_negative_int,
        "cpu": v.cpu,
        "memory": v.memory,
        "memory_limit": v.memory,
        "command": v.list_of(v.non_empty_text, min_length=1),
        "args": v.list_of(v.text),
        "env_vars": v.map_of(v.text, keys=v.non_empty_text),
        "home_claim": v.object_name,
        "port": v.port,
        "termination_grace_seconds": v.positive_int,
        "image_pull_secrets": v.list_of(v.object_name),
    },
    rules=[v.not_below("memory_limit", "memory")],
)


def worker_env(extra: dict[str, str], port: int = WORKER_PORT) -> list[dict[str, str]]:
    """Where the headnode is, the worker's own pinned port, and the no-total-limits rule."""
    env = {
        "FLOW_SERVER_HOST": HEADNODE,
        "FLOW_SERVER_PORT": str(AKKA_PORT),
        "PARTEK_COMMON_NO_TOTAL_LIMITS": "1",
        **extra,
    }
    env["PARTEK_COMMON_NO_TOTAL_LIMITS"] = "1"
    env["FLOW_WORKER_PORT"] = str(port)
    return [{"name": k, "value": v} for k, v in sorted(env.items())]


class FlowWorkers(pulumi.ComponentResource):
    """Workers that connect to ``flowheadnode`` on 2552 (akka) and 8443 (licensing) and share
    /home/flow; the same restricted security context and UID as the headnode."""

    replicas: pulumi.Output[int]
    """How many workers run."""

    def __init__(self, name: str, args: FlowWorkersArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:FlowWorkers", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = args["namespace"]
        env = args["env"]
        labels = standard_labels(WORKER_LABELS_NAME, env, SYSTEM, component="worker")
        selector = selector_labels(WORKER_LABELS_NAME, env)
        port = args.get("port", WORKER_PORT)
        container: dict[str, Any] = {
            "name": "flowworker",
            "image": args["image"],
            "command": args.get("command", DEFAULT_COMMAND),
            "args": args.get("args", DEFAULT_ARGS),
            "env": worker_env(args.get("env_vars", {}), port),
            "ports": [{"name": "akka", "containerPort": port, "protocol": "TCP"}],
            "resources": container_resources(args["cpu"], args["memory"], args.get("memory_limit")),
            "securityContext": restricted_container_security_context(read_only_root_filesystem=False),
            "volumeMounts": [{"name": "home-flow", "mountPath": "/home/flow"}],
        }
        pod_spec: dict[str, Any] = {
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": restricted_pod_security_context(FLOW_UID, FLOW_UID, fs_group=FLOW_UID),
            # a stopping worker gets this long to finish its task (Kubernetes sends SIGTERM first)
            "terminationGracePeriodSeconds": args.get(
                "termination_grace_seconds", DEFAULT_TERMINATION_GRACE_SECONDS
            ),
            "topologySpreadConstraints": spread_across_zones_and_nodes(selector),
            "containers": [container],
            "volumes": [{"name": "home-flow", "persistentVolumeClaim": {"claimName": args["home_claim"]}}],
            **scheduling_fields(image_pull_secrets=args.get("image_pull_secrets")),
        }
        deployment(
            f"{name}-deployment",
            WORKER_LABELS_NAME,
            namespace,
            labels,
            selector,
            pod_spec,
            replicas=args.get("replicas", DEFAULT_REPLICAS),
            strategy="RollingUpdate",
            # a new worker is ready before an old one is asked to stop: capacity never drops
            rolling_update={"maxSurge": 1, "maxUnavailable": 0},
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=component_depends_on(opts))
            ),
        )
        # a drain or a node upgrade stops one worker at a time
        pod_disruption_budget(
            f"{name}-disruption-budget", WORKER_LABELS_NAME, namespace, labels, selector, 1, child
        )
        headnode = pod_peer(selector_labels(HEADNODE, env))
        network_policy(
            f"{name}-allow-from-headnode",
            namespace,
            "flowworker-allow-headnode-in",
            ingress_spec(selector, [headnode], ports(port)),
            labels,
            child,
        )
        network_policy(
            f"{name}-allow-headnode",
            namespace,
            "flowworker-allow-headnode",
            egress_spec(selector, [headnode], ports(AKKA_PORT, LICENSING_PORT)),
            labels,
            child,
        )
        network_policy(
            f"{name}-allow-dns", namespace, "flowworker-allow-dns", dns_egress_spec(selector), labels, child
        )
        self.replicas = pulumi.Output.from_input(args.get("replicas", DEFAULT_REPLICAS))
        self.register_outputs({"replicas": self.replicas})
