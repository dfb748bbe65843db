"""Rules on namespaces, Services, Ingresses, RBAC and storage claims."""

from collections.abc import Mapping
from typing import Any

from .core import UNKNOWN, Resource, allowed, dig, items, message, strings, type_parts

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
    if level is UNKNOWN:
        return []
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


OPEN_RANGES = ("0.0.0.0/0", "::/0")
SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"


def service_exposure(resource: Resource, config: Config) -> list[str]:
    """No NodePort, no externalIPs (CVE-2020-8554), no LoadBalancer open to every address."""
    if resource.type not in ("kubernetes:core/v1:Service", "kubernetes:core/v1:ServicePatch"):
        return []
    out = []
    kind = dig(resource.props, "spec", "type")
    if kind == "NodePort" and not allowed(resource, config, "node-port"):
        out.append(message(resource, "spec.type", "is NodePort", "use ClusterIP behind an Ingress"))
    external = dig(resource.props, "spec", "externalIPs")
    if items(external) and not allowed(resource, config, "external-ips"):
        out.append(
            message(
                resource,
                "spec.externalIPs",
                "claims external IPs",
                "remove externalIPs; use an Ingress or a LoadBalancer",
            )
        )
    if kind == "LoadBalancer" and not allowed(resource, config, "load-balancer"):
        ranges = dig(resource.props, "spec", "loadBalancerSourceRanges")
        annotation = dig(resource.props, "metadata", "annotations", SOURCE_RANGES_ANNOTATION)
        if UNKNOWN in (ranges, annotation) or dig(resource.props, "metadata", "annotations") is UNKNOWN:
            return out
        listed = strings(ranges) or [r.strip() for r in str(annotation or "").split(",") if r.strip()]
        if not listed or any(r in OPEN_RANGES for r in listed):
            out.append(
                message(
                    resource,
                    "spec.loadBalancerSourceRanges",
                    "the LoadBalancer accepts every source address",
                    "list the client CIDRs in loadBalancerSourceRanges, or use ClusterIP behind an Ingress",
                )
            )
    return out


def ingress_tls(resource: Resource, config: Config) -> list[str]:
    if resource.type != "kubernetes:networking.k8s.io/v1:Ingress":
        return []
    out = []
    rules = dig(resource.props, "spec", "rules")
    tls = dig(resource.props, "spec", "tls")
    if tls is None or tls == []:
        out.append(
            message(resource, "spec.tls", "no TLS", "add spec.tls with the hosts and a certificate Secret")
        )
    hosts = [t.get("hosts") if isinstance(t, Mapping) else t for t in items(tls)]
    # a host counts as covered unless every TLS entry's host list is known
    known = tls is not UNKNOWN and all(
        h is not UNKNOWN and not any(x is UNKNOWN for x in items(h)) for h in hosts
    )
    covered = {h for listed in hosts for h in strings(listed)}
    for i, rule in enumerate(items(rules)):
        host = rule.get("host") if isinstance(rule, Mapping) else UNKNOWN
        if host is None:
            out.append(message(resource, f"spec.rules[{i}].host", "no host", "name the host the rule serves"))
        elif isinstance(host, str) and items(tls) and known and host not in covered:
            out.append(
                message(resource, f"spec.rules[{i}].host", f"{host} is not in spec.tls", "add it to spec.tls")
            )
    return out


CREATE = frozenset({"create"})
WRITES = frozenset({"create", "update", "patch", "delete", "deletecollection"})
ADMISSION = "admissionregistration.k8s.io"
# (API group, resource, verbs or None for any verb, allowance, why)
DANGEROUS: tuple[tuple[str, str, frozenset[str] | None, str, str], ...] = (
    ("", "pods/exec", None, "rbac:pod-exec", "runs commands in any pod"),
    ("", "pods/attach", None, "rbac:pod-exec", "attaches to any pod"),
    ("", "pods/portforward", None, "rbac:pod-exec", "port-forwards into any pod"),
    ("", "secrets", None, "rbac:secrets", "reads or writes every Secret in scope"),
    ("", "nodes/proxy", None, "rbac:nodes-proxy", "reaches the kubelet API (exec on a node's pods)"),
    ("", "serviceaccounts/token", CREATE, "rbac:token-request", "mints service account tokens"),
    (ADMISSION, "mutatingwebhookconfigurations", WRITES, "rbac:webhooks", "can disable admission webhooks"),
    (ADMISSION, "validatingwebhookconfigurations", WRITES, "rbac:webhooks", "can disable admission webhooks"),
    (ADMISSION, "validatingadmissionpolicies", WRITES, "rbac:webhooks", "can disable admission policies"),
    (ADMISSION, "validatingadmissionpolicybindings", WRITES, "rbac:webhooks", "disables admission policies"),
)  # fmt: skip


def rbac_rules(resource: Resource, config: Config) -> list[str]:
    """No wildcards, no bind/escalate/impersonate, none of the permissions that amount to them."""
    if resource.type not in ROLE_TYPES and resource.type.removesuffix("Patch") not in ROLE_TYPES:
        return []
    out = []
    for i, rule in enumerate(items(dig(resource.props, "rules"))):
        if not isinstance(rule, Mapping):
            continue
        verbs, resources, groups = rule.get("verbs"), rule.get("resources"), rule.get("apiGroups")
        for field, values in (("verbs", verbs), ("resources", resources), ("apiGroups", groups)):
            if "*" in strings(values) and not allowed(resource, config, "rbac:wildcard"):
                out.append(
                    message(resource, f"rules[{i}].{field}", "contains '*'", f"list the exact {field}")
                )
        for verb in ESCALATING_VERBS:
            if verb in strings(verbs) and not allowed(resource, config, f"rbac:{verb}"):
                out.append(
                    message(
                        resource,
                        f"rules[{i}].verbs",
                        f"grants {verb!r}",
                        f"remove {verb!r}, or add an 'rbac:{verb}' exception with a reason",
                    )
                )
        if UNKNOWN in (verbs, resources, groups):
            continue
        named_verbs, named_groups = set(strings(verbs)), set(strings(groups))
        for group, name, dangerous_verbs, allowance, why in DANGEROUS:
            if name not in strings(resources) or (group not in named_groups and "*" not in named_groups):
                continue
            granted = (
                named_verbs
                if dangerous_verbs is None or "*" in named_verbs
                else named_verbs & dangerous_verbs
            )
            if granted and not allowed(resource, config, allowance):
                out.append(
                    message(
                        resource,
                        f"rules[{i}]",
                        f"grants {', '.join(sorted(granted))} on {name}: {why}",
                        f"remove it, or add an '{allowance}' exception with a reason",
                    )
                )
    return out


BROAD_USERS = ("system:anonymous",)


def rbac_bindings(resource: Resource, config: Config) -> list[str]:
    """No cluster-admin; no grants to anonymous, unauthenticated, every authenticated user or every
    service account (of the cluster or of a namespace), at namespace or cluster scope."""
    if resource.type not in BINDING_TYPES and resource.type.removesuffix("Patch") not in BINDING_TYPES:
        return []
    out = []
    if dig(resource.props, "roleRef", "name") == "cluster-admin":
        out.append(
            message(resource, "roleRef.name", "binds cluster-admin", "bind a Role with only the verbs needed")
        )
    for i, subject in enumerate(items(dig(resource.props, "subjects"))):
        name = subject.get("name") if isinstance(subject, Mapping) else None
        kind = subject.get("kind") if isinstance(subject, Mapping) else None
        if not isinstance(name, str):
            continue
        broad = (kind == "Group" and name.startswith(BROAD_GROUPS)) or (
            kind == "User" and name in BROAD_USERS
        )
        if broad:
            out.append(
                message(
                    resource,
                    f"subjects[{i}]",
                    f"grants to the {str(kind).lower()} {name!r}",
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


def claims(resource: Resource) -> list[tuple[str, Any]]:
    """(path, claim spec) of a PersistentVolumeClaim and of a StatefulSet's volumeClaimTemplates."""
    group, kind, _ = type_parts(resource.type)
    if (group, kind) == ("core", "PersistentVolumeClaim"):
        return [("spec", dig(resource.props, "spec"))]
    if (group, kind) == ("apps", "StatefulSet"):
        return [
            (f"spec.volumeClaimTemplates[{i}].spec", dig(template, "spec"))
            for i, template in enumerate(items(dig(resource.props, "spec", "volumeClaimTemplates")))
        ]
    return []


def storage_classes(resource: Resource, config: Config) -> list[str]:
    """Claims (and claim templates) use an allowed class; ReadWriteMany only on shared-file classes."""
    out = []
    allowed_classes = strings(config.get("allowedStorageClasses"))
    shared = strings(config.get("sharedFileClasses"))
    for path, spec in claims(resource):
        if not isinstance(spec, Mapping):
            continue
        storage_class = spec.get("storageClassName")
        static = spec.get("volumeName") not in (None, "")
        if storage_class is UNKNOWN:
            continue
        if static and storage_class in ("", None):
            storage_class = ""  # bound to a named PersistentVolume: the volume decides
        elif storage_class is None and resource.patch:
            pass
        elif storage_class not in allowed_classes:
            out.append(
                message(
                    resource,
                    f"{path}.storageClassName",
                    f"{storage_class!r} is not an allowed class",
                    f"use one of {', '.join(map(repr, allowed_classes))}",
                )
            )
        modes = strings(spec.get("accessModes"))
        if "ReadWriteMany" in modes and not static and storage_class not in shared and not resource.patch:
            out.append(
                message(
                    resource,
                    f"{path}.accessModes",
                    f"ReadWriteMany on {storage_class!r}",
                    f"use a shared-file class ({', '.join(map(repr, shared))}) or ReadWriteOnce",
                )
            )
    return out
