"""A guarded team namespace and HyperFlow's redis inside it: two flow-platform components chained.

Python programs import the components directly (no generated SDK needed). The namespace's name is
an Output of ``NamespaceGuardrails``; passing it on makes the redis wait for the namespace.
"""

import pulumi
from flow_platform.hyperflow import HyperflowRedis
from flow_platform.k8s import NamespaceGuardrails, PodSecurityLevel

env = pulumi.get_stack()

namespace = NamespaceGuardrails(
    "team",
    {
        "namespace": f"workflows-{env}",
        "env": env,
        "system": "hyperflow",
        "pod_security": PodSecurityLevel.RESTRICTED,
        "default_request": {"cpu": "100m", "memory": "128Mi"},
        "default_limit": {"memory": "512Mi"},
        "max_limit": {"cpu": "2", "memory": "2Gi"},
        "quota": {"requests.cpu": "4", "requests.memory": "8Gi", "limits.memory": "8Gi", "pods": "20"},
    },
)

redis = HyperflowRedis(
    "state",
    {
        "namespace": namespace.namespace_name,
        "env": env,
        "image": "redis:7.2.5",
        "memory": "512Mi",
        # pulumi config set --secret redisPassword "$(openssl rand -hex 24)"
        "password": pulumi.Config().require_secret("redisPassword"),
    },
)

pulumi.export("namespace", namespace.namespace_name)
pulumi.export("redisService", redis.service_name)
