"""The redis HyperFlow keeps its workflow state in."""

import re
from collections.abc import Mapping
from typing import Any, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .. import PACKAGE
from .. import validation as v
from ..k8s.labels import standard_labels
from ..k8s.network import ingress_spec, network_policy, pod_peer, ports
from ..k8s.quantity import Quantity
from ..k8s.resources import container_resources
from ..k8s.security import restricted_container_security_context, restricted_pod_security_context
from ..k8s.storage import volume_claim
from ..k8s.workload import deployment, service, service_port, tcp_probes
from .labels import REDIS, SYSTEM, engine_selector, job_selector, redis_selector

REDIS_PORT = 6379
REDIS_UID = 999
"""The official redis image's ``redis`` user."""
SECRET_NAME = "hyperflow-redis"
PASSWORD_KEY = "password"
AUTH_KEY = "auth.conf"
CONFIG_NAME = "redis-config"
CONFIG_KEY = "redis.conf"
CONFIG_PATH = "/etc/redis/conf/redis.conf"
AUTH_PATH = "/etc/redis/auth/auth.conf"
DATA_CLAIM = "redis-data"
MAXMEMORY_SHARE = 0.75
"""Of the memory limit: the rest is redis's own overhead, fragmentation and the fork that rewrites
the append-only file."""
MAXMEMORY_POLICY = "noeviction"
"""Workflow state must never be evicted silently: at the bound, writes fail loudly instead."""


DEFAULT_CPU = "100m"
DEFAULT_MEMORY = "256Mi"
DEFAULT_PROTECT = False


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
    """Memory request and limit; ``maxmemory`` is three quarters of it. Default: ``256Mi``."""
    password: Required[pulumi.Input[str]]
    """The password clients authenticate with (a secret; kept in the Secret ``hyperflow-redis``);
    no whitespace, quotes, backslashes or ``@ / : # ? %``, because it travels in the redis URL."""
    persistence_size: str
    """With a size, redis keeps an append-only file on a claim of that size; without, state lives in
    memory only and a restarted redis forgets running workflows. Default: none (no persistence)."""
    storage_class: pulumi.Input[str]
    """Class of the persistence claim, required with ``persistence_size``. Default: none."""
    protect: bool
    """Protect the persistence claim. Default: ``false``."""


UNSAFE_PASSWORD = re.compile(r"[\s\"'\\@/:#?%]")
"""What would break the redis URL (``redis://:<password>@host``) or redis.conf."""


@v.described("a non-empty password without whitespace, quotes, backslashes or @ / : # ? %")
def redis_password(value: object) -> str:
    """Never echoes the value: it is a secret. (The stacks also ask for 16+ characters.)"""
    if not isinstance(value, str) or not value or UNSAFE_PASSWORD.search(value):
        raise ValueError(
            "expected a non-empty password without whitespace, quotes, backslashes or @ / : # ? % "
            "(it is part of the redis URL)"
        )
    return value


def _storage_class_with_persistence(args: Mapping[str, Any]) -> str | None:
    if ("persistence_size" in args) != ("storage_class" in args):
        return "storage_class and persistence_size go together: the claim needs both"
    return None


ARGS = v.ArgsSpec(
    "HyperflowRedis",
    HyperflowRedisArgs,
    {
        "namespace": v.namespace_name,
        "env": v.label_value,
        "image": v.image_reference,
        "cpu": v.cpu,
        "memory": v.memory,
        "password": redis_password,
        "persistence_size": v.storage,
        "storage_class": v.object_name,
        "protect": v.boolean,
    },
    rules=[v.rule("storage_class", _storage_class_with_persistence)],
)


def maxmemory_bytes(memory_limit: str) -> int:
    """redis's ``maxmemory`` for a container memory limit."""
    return int(int(Quantity.parse(memory_limit).value) * MAXMEMORY_SHARE)


def redis_auth_config(password: str) -> str:
    """The secret part of the config, included by :func:`redis_config`."""
    return f"requirepass {redis_password(password)}\n"


def redis_config(memory_limit: str, persistent: bool) -> str:
    """redis.conf: auth from the Secret, a memory bound, and append-only persistence when asked."""
    lines = [
        f"port {REDIS_PORT}",
        f"include {AUTH_PATH}",
        f"maxmemory {maxmemory_bytes(memory_limit)}",
        f"maxmemory-policy {MAXMEMORY_POLICY}",
        'save ""',
        f"appendonly {'yes' if persistent else 'no'}",
        "appendfsync everysec",
        "dir /data",
    ]
    return "\n".join(lines) + "\n"


class HyperflowRedis(pulumi.ComponentResource):
    """redis on 6379 as a non-root pod with a password, a memory bound and optional persistence,
    reachable only from the engine and its job pods."""

    service_name: pulumi.Output[str]
    """``redis``: the host in the engine's ``REDIS_URL``."""
    secret_name: pulumi.Output[str]
    """The Secret with the password under ``password`` (and the server's ``auth.conf``)."""

    def __init__(
        self, name: str, args: HyperflowRedisArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:HyperflowRedis", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace, env = args["namespace"], args["env"]
        memory = args.get("memory", DEFAULT_MEMORY)
        size = args.get("persistence_size")
        labels = standard_labels(REDIS, env, SYSTEM, component="state")
        selector = redis_selector(env)
        password = pulumi.Output.secret(args["password"])
        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata={"name": SECRET_NAME, "namespace": namespace, "labels": labels},
            type="Opaque",
            string_data={PASSWORD_KEY: password, AUTH_KEY: password.apply(redis_auth_config)},
            opts=child,
        )
        config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata={"name": CONFIG_NAME, "namespace": namespace, "labels": labels},
            data={CONFIG_KEY: redis_config(memory, size is not None)},
            opts=child,
        )
        data_volume: dict[str, Any] = {"name": "data", "emptyDir": {"sizeLimit": "1Gi"}}
        depends: list[pulumi.Resource] = [secret, config]
        if size is not None:
            claim = volume_claim(
                f"{name}-data",
                DATA_CLAIM,
                namespace,
                size,
                args["storage_class"],
                "ReadWriteOnce",
                labels,
                args.get("protect", DEFAULT_PROTECT),
                child,
            )
            depends.append(claim)
            data_volume = {"name": "data", "persistentVolumeClaim": {"claimName": DATA_CLAIM}}
        container: dict[str, Any] = {
            "name": "redis",
            "image": args["image"],
            "command": ["redis-server", CONFIG_PATH],
            "ports": [{"name": "redis", "containerPort": REDIS_PORT, "protocol": "TCP"}],
            "resources": container_resources(args.get("cpu", DEFAULT_CPU), memory),
            "securityContext": restricted_container_security_context(),
            **tcp_probes("redis", startup_seconds=60),
            "volumeMounts": [
                {"name": "data", "mountPath": "/data"},
                {"name": "config", "mountPath": "/etc/redis/conf", "readOnly": True},
                {"name": "auth", "mountPath": "/etc/redis/auth", "readOnly": True},
            ],
        }
        pod: dict[str, Any] = {
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": restricted_pod_security_context(REDIS_UID, REDIS_UID, fs_group=REDIS_UID),
            "containers": [container],
            "volumes": [
                data_volume,
                {"name": "config", "configMap": {"name": CONFIG_NAME}},
                {
                    "name": "auth",
                    "secret": {"secretName": SECRET_NAME, "items": [{"key": AUTH_KEY, "path": AUTH_KEY}]},
                },
            ],
        }
        deployment(
            f"{name}-deployment",
            REDIS,
            namespace,
            labels,
            selector,
            pod,
            1,
            "Recreate",
            pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=depends)),
        )
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
        self.secret_name = secret.metadata.name
        self.register_outputs({"service_name": self.service_name, "secret_name": self.secret_name})
