"""The CrossGuard policies: each pure rule with its name, description and config schema."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from . import aws, cluster, stack, workloads
from .core import Resource, plain

ResourceRule = Callable[[Resource, Mapping[str, Any]], list[str]]
StackRule = Callable[[Sequence[Resource], Mapping[str, Any]], list[tuple[str, str]]]

ALLOWANCES = [
    "capability:NET_ADMIN",
    "capability:SYS_ADMIN",
    "capability:DAC_READ_SEARCH",
    "capability:SETUID",
    "capability:SETGID",
    "capability:CHOWN",
    "capability:FOWNER",
    "run-as-root",
    "privileged",
    "host-namespaces",
    "host-path",
    "writable-root",
    "cpu-limit",
    "no-probes",
    "service-account-token",
    "cluster-scope",
]
EXCEPTIONS: dict[str, Any] = {
    "type": "array",
    "description": "Documented allowances, each for one workload (namespace and name) with a reason.",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["namespace", "name", "allow", "reason"],
        "properties": {
            "namespace": {"type": "string", "minLength": 1},
            "name": {"type": "string", "minLength": 1},
            "allow": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": ALLOWANCES}},
            "reason": {"type": "string", "minLength": 10},
        },
    },
}
STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: ResourceRule | StackRule
    properties: Mapping[str, Mapping[str, Any]]
    stack: bool = False


RULES = [
    Rule(
        "pod-resources",
        "Containers set CPU and memory requests and a memory limit, within the env's"
        " maximums; no CPU limit unless an exception allows it.",
        workloads.resources,
        {"maxCpu": {"type": "string"}, "maxMemory": {"type": "string"}, "exceptions": EXCEPTIONS},
    ),
    Rule(
        "pod-security-context",
        "Non-root, no privilege or escalation, capabilities dropped, seccomp"
        " RuntimeDefault; additions only through named exceptions.",
        workloads.security_context,
        {"exceptions": EXCEPTIONS},
    ),
    Rule("no-host-path", "No hostPath volumes.", workloads.no_host_path, {"exceptions": EXCEPTIONS}),
    Rule(
        "read-only-root-filesystem",
        "Containers have a read-only root file system.",
        workloads.read_only_root_filesystem,
        {"exceptions": EXCEPTIONS},
    ),
    Rule(
        "image-source",
        "Images are pinned (not latest; by digest where required) and come from the allowed registries.",
        workloads.images,
        {
            "allowedRegistries": STRINGS,
            "requireDigest": {"type": "boolean"},
            "immutableTagRegistries": STRINGS,
        },
    ),
    Rule(
        "workload-probes",
        "Long-running workloads have readiness and liveness probes.",
        workloads.probes,
        {"exceptions": EXCEPTIONS},
    ),
    Rule(
        "service-account-token",
        "Pods do not mount an API token unless they need one.",
        workloads.service_account_token,
        {"exceptions": EXCEPTIONS},
    ),
    Rule(
        "no-default-namespace",
        "Nothing is deployed into the default namespace.",
        cluster.no_default_namespace,
        {},
    ),
    Rule(
        "namespace-pod-security",
        "Namespaces enforce Pod Security Admission 'restricted' unless listed.",
        cluster.namespace_pod_security,
        {"privilegedNamespaces": STRINGS},
    ),
    Rule(
        "service-exposure", "No NodePort and no public LoadBalancer Services.", cluster.service_exposure, {}
    ),
    Rule("ingress-tls", "Ingresses name their hosts and serve them over TLS.", cluster.ingress_tls, {}),
    Rule(
        "rbac-rules", "Roles grant no wildcards and no bind, escalate or impersonate.", cluster.rbac_rules, {}
    ),
    Rule(
        "rbac-bindings", "No binding to cluster-admin or to every service account.", cluster.rbac_bindings, {}
    ),
    Rule(
        "rbac-namespaced",
        "RBAC is namespaced unless an exception says otherwise.",
        cluster.rbac_namespaced,
        {"exceptions": EXCEPTIONS},
    ),
    Rule(
        "pvc-storage-class",
        "Claims use allowed classes; ReadWriteMany only on shared-file classes.",
        cluster.storage_classes,
        {"allowedStorageClasses": STRINGS, "sharedFileClasses": STRINGS},
    ),
    Rule(
        "efs-encryption",
        "EFS is encrypted (with a customer KMS key where required).",
        aws.efs_encryption,
        {"requireKms": {"type": "boolean"}},
    ),
    Rule(
        "ecr-repository",
        "ECR repositories scan on push, keep tags immutable and are not public.",
        aws.ecr_repository,
        {},
    ),
    Rule(
        "iam-roles",
        "IAM: no '*' principals, no '*' actions on '*', IRSA trust pinned on sub and aud.",
        aws.iam_roles,
        {},
    ),
    Rule(
        "namespace-guardrails",
        "Every namespace has a LimitRange, a ResourceQuota, a PSA enforce label and a"
        " default-deny NetworkPolicy.",
        stack.namespace_guardrails,
        {},
        stack=True,
    ),
    Rule(
        "stateful-protected",
        "Stateful resources are protected where required (prd).",
        stack.stateful_protected,
        {"requireProtect": {"type": "boolean"}},
        stack=True,
    ),
]


def _unknown_keys(rule: Rule, config: Mapping[str, Any]) -> list[str]:
    """Typos in a policy's config are violations, not silently ignored settings."""
    extra = sorted(set(config) - set(rule.properties) - {"enforcementLevel"})
    return [
        f"policy config for {rule.name!r} has unknown key {key!r}; allowed: {sorted(rule.properties)}"
        for key in extra
    ]


def to_resource(args: Any) -> Resource:
    options = {"protect": bool(getattr(args.opts, "protect", False))} if getattr(args, "opts", None) else {}
    return Resource(args.resource_type, args.name, plain(args.props, UnknownValueError), args.urn, options)


def _resource_policy(rule: Rule) -> ResourceValidationPolicy:
    check: ResourceRule = rule.check  # type: ignore[assignment]

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        config = args.get_config() or {}
        for problem in _unknown_keys(rule, config):
            report_violation(problem, None)
        for violation in check(to_resource(args), config):
            report_violation(violation, None)

    return ResourceValidationPolicy(rule.name, rule.description, validate, config_schema=_schema(rule))


def _stack_policy(rule: Rule) -> StackValidationPolicy:
    check: StackRule = rule.check  # type: ignore[assignment]

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        config = args.get_config() or {}
        for problem in _unknown_keys(rule, config):
            report_violation(problem, None)
        resources = [to_resource(r) for r in args.resources]
        for urn, violation in check(resources, config):
            report_violation(violation, urn or None)

    return StackValidationPolicy(rule.name, rule.description, validate, config_schema=_schema(rule))


def _schema(rule: Rule) -> PolicyConfigSchema | None:
    return (
        PolicyConfigSchema(properties={k: dict(v) for k, v in rule.properties.items()})
        if rule.properties
        else None
    )


def policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    return [_stack_policy(r) if r.stack else _resource_policy(r) for r in RULES]


DEFAULT_LEVEL = EnforcementLevel.MANDATORY
