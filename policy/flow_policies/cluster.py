"""Rules on namespaces, Services, Ingresses, RBAC and storage claims."""

from collections.abc import Mapping
from typing import Any

from .core import UNKNOWN, Resource, allowed, dig, message

Config = Mapping[str, Any]
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
PSA_LEVELS = ("restricted", "baseline", "privileged")
ESCALATING_VERBS = ("bind", "escalate", "impersonate")
BROAD_GROUPS = ("system:serviceaccounts", "system:authenticated", "system:unauthenticated")
ROLE_TYPES = (
    "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
)
BINDING_TYPES = (
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
)
CLUSTER_SCOPED_RBAC = (
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
)
INTERNAL_LB = {
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
}


def no_default_namespace(resource: Resource, config: Config) -> list[str]:
    if not resource.type.startswith("kubernetes:") or resource.type.endswith(":Namespace"):
        return []
    if resource.namespace == "default":
        return [
            message(
                resource,
                "metadata.namespace",
                "is 'default'",
                "deploy into the system's own namespace (<system>-<env>)",
            )
        ]
    return []


def namespace_pod_security(resource: Resource, config: Config) -> list[str]:
    if resource.type != "kubernetes:core/v1:Namespace":
        return []
    labels = dig(resource.props, "metadata", "labels")
    if labels is UNKNOWN:
        return []
    level = labels.get(PSA_ENFORCE) if isinstance(labels, Mapping) else None
    if level is None:
        return [
            message(
                resource,
                f"metadata.labels['{PSA_ENFORCE}']",
                "is missing",
                "set it to 'restricted' (or a documented exception)",
            )
        ]
    if level not in PSA_LEVELS:
        return [
            message(
                resource,
                f"metadata.labels['{PSA_ENFORCE}']",
                f"is {level!r}",
                f"use one of {', '.join(PSA_LEVELS)}",
            )
        ]
    if level != "restricted" and resource.object_name not in (config.get("privilegedNamespaces") or []):
        return [
            message(
                resource,
                f"metadata.labels['{PSA_ENFORCE}']",
                f"is {level!r}",
                "use 'restricted', or list the namespace in privilegedNamespaces with a reason",
            )
        ]
    return []


def service_exposure(resource: Resource, config: Config) -> list[str]:
    if resource.type != "kubernetes:core/v1:Service":
        return []
    kind = dig(resource.props, "spec", "type")
    if kind == "NodePort":
        return [message(resource, "spec.type", "is NodePort", "use ClusterIP behind an Ingress")]
    if kind == "LoadBalancer":
        annotations = dig(resource.props, "metadata", "annotations") or {}
        if annotations is UNKNOWN:
            return []
        if not any(annotations.get(k) == v for k, v in INTERNAL_LB.items()):
            return [
                message(
                    resource,
                    "spec.type",
                    "is a public LoadBalancer",
                    "use ClusterIP behind an Ingress, or annotate the load balancer as internal",
                )
            ]
    return []


def ingress_tls(resource: Resource, config: Config) -> list[str]:
    if resource.type != "kubernetes:networking.k8s.io/v1:Ingress":
        return []
    out = []
    rules = dig(resource.props, "spec", "rules") or []
    tls = dig(resource.props, "spec", "tls") or []
    if rules is UNKNOWN or tls is UNKNOWN:
        return []
    covered = {h for t in tls if isinstance(t, Mapping) for h in (t.get("hosts") or [])}
    if not tls:
        out.append(
            message(resource, "spec.tls", "no TLS", "add spec.tls with the hosts and a certificate Secret")
        )
    for i, rule in enumerate(rules):
        host = rule.get("host") if isinstance(rule, Mapping) else None
        if host is None:
            out.append(message(resource, f"spec.rules[{i}].host", "no host", "name the host the rule serves"))
        elif host is not UNKNOWN and tls and host not in covered:
            out.append(
                message(resource, f"spec.rules[{i}].host", f"{host} is not in spec.tls", "add it to spec.tls")
            )
    return out


def rbac_rules(resource: Resource, config: Config) -> list[str]:
    """No wildcards, no bind/escalate/impersonate."""
    if resource.type not in ROLE_TYPES:
        return []
    out = []
    for i, rule in enumerate(dig(resource.props, "rules") or []):
        if not isinstance(rule, Mapping):
            continue
        for field in ("verbs", "resources", "apiGroups"):
            values = rule.get(field) or []
            if values is not UNKNOWN and "*" in values:
                out.append(
                    message(resource, f"rules[{i}].{field}", "contains '*'", f"list the exact {field}")
                )
        for verb in ESCALATING_VERBS:
            if verb in (rule.get("verbs") or []):
                out.append(message(resource, f"rules[{i}].verbs", f"grants {verb!r}", f"remove {verb!r}"))
    return out


def rbac_bindings(resource: Resource, config: Config) -> list[str]:
    """No cluster-admin, no grants to every service account or every user."""
    if resource.type not in BINDING_TYPES:
        return []
    out = []
    if dig(resource.props, "roleRef", "name") == "cluster-admin":
        out.append(
            message(resource, "roleRef.name", "binds cluster-admin", "bind a Role with only the verbs needed")
        )
    for i, subject in enumerate(dig(resource.props, "subjects") or []):
        name = subject.get("name") if isinstance(subject, Mapping) else None
        if isinstance(name, str) and subject.get("kind") == "Group" and name.startswith(BROAD_GROUPS):
            out.append(
                message(
                    resource,
                    f"subjects[{i}]",
                    f"grants to the group {name!r}",
                    "bind the one service account that needs it",
                )
            )
    return out


def rbac_namespaced(resource: Resource, config: Config) -> list[str]:
    """Cluster-scoped RBAC only where an exception says a namespaced Role cannot serve."""
    if resource.type not in CLUSTER_SCOPED_RBAC or allowed(resource, config, "cluster-scope"):
        return []
    return [
        message(
            resource, "kind", "is cluster-scoped", "use a Role and RoleBinding in the workload's namespace"
        )
    ]


def storage_classes(resource: Resource, config: Config) -> list[str]:
    """Claims use an allowed class; ReadWriteMany only on the shared-file classes."""
    if resource.type != "kubernetes:core/v1:PersistentVolumeClaim":
        return []
    out = []
    allowed_classes = config.get("allowedStorageClasses") or []
    shared = config.get("sharedFileClasses") or []
    storage_class = dig(resource.props, "spec", "storageClassName")
    static = dig(resource.props, "spec", "volumeName") is not None
    if storage_class is UNKNOWN:
        return []
    if static and storage_class in ("", None):
        storage_class = ""  # bound to a named PersistentVolume: the volume decides
    elif storage_class is None or storage_class not in allowed_classes:
        out.append(
            message(
                resource,
                "spec.storageClassName",
                f"{storage_class!r} is not an allowed class",
                f"use one of {', '.join(map(repr, allowed_classes))}",
            )
        )
    modes = dig(resource.props, "spec", "accessModes") or []
    if modes is not UNKNOWN and "ReadWriteMany" in modes and not static and storage_class not in shared:
        out.append(
            message(
                resource,
                "spec.accessModes",
                f"ReadWriteMany on {storage_class!r}",
                f"use a shared-file class ({', '.join(map(repr, shared))}) or ReadWriteOnce",
            )
        )
    return out
