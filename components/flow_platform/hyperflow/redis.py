"""The redis HyperFlow keeps its workflow state in."""

from typing import Any, Required, TypedDict

import pulumi

from .. import PACKAGE
from .. import validation as v
from ..k8s.labels import standard_labels
from ..k8s.network import ingress_spec, network_policy, pod_peer, ports
from ..k8s.resources import container_resources
from ..k8s.security import restricted_container_security_context, restricted_pod_security_context
from ..k8s.workload import deployment, service, service_port, tcp_probes
from .labels import REDIS, SYSTEM, engine_selector, job_selector, redis_selector

REDIS_PORT = 6379
REDIS_UID = 999
"""The official redis image's ``redis`` user."""


DEFAULT_CPU = "100m"
DEFAULT_MEMORY = "256Mi"


class HyperflowRedisArgs(TypedDict, total=False):
    """Inputs of :class:`HyperflowRedis`."""

    namespace: Required[pulumi.Input[str]]
    """HyperFlow's namespace."""
    env: Required[str]
    """Environment (labels and selectors)."""
    image: Required[pulumi.Input[str]]
    """redis image, pinned."""
    cpu: str
    """CPU request. Default: ``100m``."""
    memory: str
    """Memory request and limit. Default: ``256Mi``."""


ARGS = v.ArgsSpec(
    "HyperflowRedis",
    HyperflowRedisArgs,
    {
        "namespace": v.namespace_name,
        "env": v.label_value,
        "image": v.image_reference,
        "cpu": v.cpu,
        "memory": v.memory,
    },
)


class HyperflowRedis(pulumi.ComponentResource):
    """redis on 6379 as a non-root pod, reachable only from the engine and its job pods."""

    service_name: pulumi.Output[str]
    """``redis``: the engine's ``REDIS_URL`` host."""

    def __init__(
        self, name: str, args: HyperflowRedisArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:HyperflowRedis", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace, env = args["namespace"], args["env"]
        labels = standard_labels(REDIS, env, SYSTEM, component="state")
        selector = redis_selector(env)
        container: dict[str, Any] = {
            "name": "redis",
            "image": args["image"],
            # workflow state is rebuilt per run: no snapshots to a volume
            "args": ["--save", "", "--appendonly", "no"],
            "ports": [{"name": "redis", "containerPort": REDIS_PORT, "protocol": "TCP"}],
            "resources": container_resources(
                args.get("cpu", DEFAULT_CPU), args.get("memory", DEFAULT_MEMORY)
            ),
            "securityContext": restricted_container_security_context(),
            **tcp_probes("redis", startup_seconds=60),
            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        }
        pod: dict[str, Any] = {
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": restricted_pod_security_context(REDIS_UID, REDIS_UID, fs_group=REDIS_UID),
            "containers": [container],
            "volumes": [{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}}],
        }
        deployment(f"{name}-deployment", REDIS, namespace, labels, selector, pod, 1, "Recreate", child)
        svc = service(
            f"{name}-service", REDIS, namespace, labels, selector, [service_port("redis", REDIS_PORT)], child
        )
        network_policy(
            f"{name}-allow-clients",
            namespace,
            "redis-allow-engine-and-jobs",
            ingress_spec(
                selector, [pod_peer(engine_selector(env)), pod_peer(job_selector(env))], ports(REDIS_PORT)
            ),
            labels,
            child,
        )
        self.service_name = svc.metadata.name
        self.register_outputs({"service_name": self.service_name})
