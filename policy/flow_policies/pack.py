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
from pulumi_policy.proxy import UnknownValueError, _DictProxy, _ListProxy

from . import aws, cluster, stack, workloads
from .core import UNKNOWN, UNKNOWN_SENTINELS, Resource, plain, type_parts
from .pods import FLINK_GROUP, LONG_RUNNING_KINDS, POD_SPEC_PATHS, SPARK_GROUP
from .speed import LazyStruct, memo_by_identity

ResourceRule = Callable[[Resource, Mapping[str, Any]], list[str]]
StackRule = Callable[[Sequence[Resource], Mapping[str, Any]], list[tuple[str, str]]]

ALLOWANCES = [
    "run-as-root",
    "privileged",
    "host-namespaces",
    "host-ports",
    "host-path",
    "unsafe-sysctls",
    "writable-root",
    "cpu-limit",
    "no-probes",
    "service-account-token",
    "cluster-scope",
    "node-port",
    "external-ips",
    "load-balancer",
    "rbac:wildcard",
    "rbac:bind",
    "rbac:escalate",
    "rbac:impersonate",
    "rbac:pod-exec",
    "rbac:secrets",
    "rbac:nodes-proxy",
    "rbac:token-request",
    "rbac:webhooks",
    "unversioned",
]
# capabilities(7), without the CAP_ prefix as Kubernetes writes them
CAPABILITIES = [
    "AUDIT_CONTROL",
    "AUDIT_READ",
    "AUDIT_WRITE",
    "BLOCK_SUSPEND",
    "BPF",
    "CHECKPOINT_RESTORE",
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "IPC_LOCK",
    "IPC_OWNER",
    "KILL",
    "LEASE",
    "LINUX_IMMUTABLE",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "MKNOD",
    "NET_ADMIN",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_RAW",
    "PERFMON",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYSLOG",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_CHROOT",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PACCT",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "WAKE_ALARM",
]
# core/v1 Volume sources outside the PSS restricted list (k8s.io/api v0.32)
VOLUME_TYPES = [
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephfs",
    "cinder",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "gitRepo",
    "glusterfs",
    "image",
    "iscsi",
    "nfs",
    "photonPersistentDisk",
    "portworxVolume",
    "quobyte",
    "rbd",
    "scaleIO",
    "storageos",
    "vsphereVolume",
]
ALLOWANCES += [f"capability:{c}" for c in CAPABILITIES] + [f"volume:{v}" for v in VOLUME_TYPES]
EXCEPTIONS: dict[str, Any] = {
    "type": "array",
    "description": "Documented allowances, each for one workload (namespace and name) with a reason."
    ' Cluster-scoped and AWS resources use the namespace "".',
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["namespace", "name", "allow", "reason"],
        "properties": {
            "namespace": {"type": "string"},
            "name": {"type": "string", "minLength": 1},
            "allow": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string", "enum": ALLOWANCES},
            },
            "reason": {"type": "string", "minLength": 10},
        },
    },
}
STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}


def _pods(type_: str) -> bool:
    group, kind, _ = type_parts(type_)
    return (group, kind) in POD_SPEC_PATHS or group in (FLINK_GROUP, SPARK_GROUP)


def _long_running(type_: str) -> bool:
    return _pods(type_) and type_parts(type_)[1] in LONG_RUNNING_KINDS


def _types(*types: str) -> Callable[[str], bool]:
    wanted = set(types) | {f"{t}Patch" for t in types if t.startswith("kubernetes:")}
    return lambda type_: type_ in wanted


def _kubernetes(type_: str) -> bool:
    return type_.startswith("kubernetes:")


def _claims(type_: str) -> bool:
    return type_parts(type_)[:2] in (("core", "PersistentVolumeClaim"), ("apps", "StatefulSet"))


def _any(type_: str) -> bool:
    return True


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: ResourceRule | StackRule
    properties: Mapping[str, Mapping[str, Any]]
    stack: bool = False
    applies: Callable[[str], bool] = _any  # resource types the rule can judge (others skip conversion)


RULES = [
    Rule(
        "pod-resources",
        "Containers set CPU and memory requests and a memory limit, within the env's"
        " maximums; no CPU limit unless an exception allows it.",
        workloads.resources,
        {"maxCpu": {"type": "string"}, "maxMemory": {"type": "string"}, "exceptions": EXCEPTIONS},
        applies=_pods,
    ),
    Rule(
        "pod-security-context",
        "Every Pod Security Standards check (baseline and restricted, Kubernetes v1.32 catalogue) on"
        " every pod a resource runs; findings only through named exceptions.",
        workloads.security_context,
        {
            "pssLevel": {"type": "string", "enum": ["baseline", "restricted"]},
            "pssVersion": {"type": "string", "pattern": "^(latest|v1\\.[0-9]+)$"},
            "exceptions": EXCEPTIONS,
        },
        applies=_pods,
    ),
    Rule(
        "no-host-path",
        "No hostPath volumes.",
        workloads.no_host_path,
        {"exceptions": EXCEPTIONS},
        applies=_pods,
    ),
    Rule(
        "read-only-root-filesystem",
        "Containers have a read-only root file system.",
        workloads.read_only_root_filesystem,
        {"exceptions": EXCEPTIONS},
        applies=_pods,
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
        applies=_pods,
    ),
    Rule(
        "workload-probes",
        "Long-running workloads have readiness and liveness probes.",
        workloads.probes,
        {"exceptions": EXCEPTIONS},
        applies=_long_running,
    ),
    Rule(
        "service-account-token",
        "Pods do not mount an API token unless they need one.",
        workloads.service_account_token,
        {"exceptions": EXCEPTIONS},
        applies=_pods,
    ),
    Rule(
        "no-default-namespace",
        "Nothing is deployed into the default namespace.",
        cluster.no_default_namespace,
        {},
        applies=_kubernetes,
    ),
    Rule(
        "namespace-pod-security",
        "Namespaces enforce Pod Security Admission 'restricted' unless listed.",
        cluster.namespace_pod_security,
        {"privilegedNamespaces": STRINGS},
        applies=_types("kubernetes:core/v1:Namespace"),
    ),
    Rule(
        "service-exposure",
        "No NodePort, no externalIPs, no LoadBalancer without loadBalancerSourceRanges.",
        cluster.service_exposure,
        {"exceptions": EXCEPTIONS},
        applies=_types("kubernetes:core/v1:Service"),
    ),
    Rule(
        "ingress-tls",
        "Ingresses name their hosts and serve them over TLS.",
        cluster.ingress_tls,
        {},
        applies=_types("kubernetes:networking.k8s.io/v1:Ingress"),
    ),
    Rule(
        "rbac-rules",
        "Roles grant no wildcards, no bind/escalate/impersonate, no exec/attach/port-forward, secrets,"
        " node proxy, token requests or admission configuration.",
        cluster.rbac_rules,
        {"exceptions": EXCEPTIONS},
        applies=_types(*cluster.ROLE_TYPES),
    ),
    Rule(
        "rbac-bindings",
        "No binding to cluster-admin, anonymous, unauthenticated, all authenticated users or all"
        " service accounts.",
        cluster.rbac_bindings,
        {},
        applies=_types(*cluster.BINDING_TYPES),
    ),
    Rule(
        "rbac-namespaced",
        "RBAC is namespaced unless an exception says otherwise.",
        cluster.rbac_namespaced,
        {"exceptions": EXCEPTIONS},
        applies=_types(*cluster.CLUSTER_SCOPED_RBAC),
    ),
    Rule(
        "pvc-storage-class",
        "Claims and StatefulSet claim templates use allowed classes; ReadWriteMany only on"
        " shared-file classes.",
        cluster.storage_classes,
        {"allowedStorageClasses": STRINGS, "sharedFileClasses": STRINGS},
        applies=_claims,
    ),
    Rule(
        "efs-encryption",
        "EFS is encrypted (with a customer KMS key where required).",
        aws.efs_encryption,
        {"requireKms": {"type": "boolean"}},
        applies=_types("aws:efs/fileSystem:FileSystem"),
    ),
    Rule(
        "ecr-repository",
        "ECR repositories scan on push, keep tags immutable and are not public.",
        aws.ecr_repository,
        {},
        applies=_types("aws:ecr/repository:Repository", "aws:ecr/repositoryPolicy:RepositoryPolicy"),
    ),
    Rule(
        "iam-roles",
        "IAM: no '*' principals, no federated or cross-account trust without conditions (IRSA pinned on"
        " sub and aud), no admin-like actions, no '*' resources for actions that write.",
        aws.iam_roles,
        {},
        applies=_types("aws:iam/role:Role", *aws.POLICY_TYPES),
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
        "s3-buckets",
        "S3 buckets are encrypted (KMS where required), block all public access, deny requests"
        " without TLS and are versioned unless excepted.",
        aws.s3_buckets,
        {"requireKms": {"type": "boolean"}, "exceptions": EXCEPTIONS},
        stack=True,
    ),
    Rule(
        "namespace-limits",
        "Every container, custom resources' pods included, fits its namespace's LimitRange.",
        stack.namespace_limits,
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
    if not config or config.keys() <= rule.properties.keys():
        return []
    extra = sorted(set(config) - set(rule.properties) - {"enforcementLevel"})
    return [
        f"policy config for {rule.name!r} has unknown key {key!r}; allowed: {sorted(rule.properties)}"
        for key in extra
    ]


def _raw(value: Any) -> Any:
    """pulumi_policy's unknown-checking proxy as plain data, unknowns as UNKNOWN, read through the
    proxies' ``__target`` (the same hook pulumi_policy's serializer uses) instead of raising per field."""
    kind = type(value)
    if kind is LazyStruct:  # read field by field, each as this function would (see .speed)
        return value
    if kind is _DictProxy:
        return {k: _raw(v) for k, v in value["__target"].items()}
    if kind is _ListProxy:
        return [_raw(v) for v in value["__target"]]
    if kind is dict:
        return {k: _raw(v) for k, v in value.items()}
    if kind is list:
        return [_raw(v) for v in value]
    if kind is str and value in UNKNOWN_SENTINELS:
        return UNKNOWN
    return value


def _props(props: Any) -> Any:
    try:
        return _raw(props)
    except Exception:
        return plain(props, UnknownValueError)


def to_resource(args: Any) -> Resource:
    """The resource as plain data: read once per request (see :mod:`.speed`), shared by every rule."""
    return memo_by_identity("resource", args.props, lambda: _to_resource(args))  # type: ignore[no-any-return]


def _to_resource(args: Any) -> Resource:
    options = {"protect": bool(getattr(args.opts, "protect", False))} if getattr(args, "opts", None) else {}
    dependencies = {
        str(k): [getattr(d, "urn", "") for d in v]
        for k, v in (getattr(args, "property_dependencies", None) or {}).items()
    }
    return Resource(args.resource_type, args.name, _props(args.props), args.urn, options, dependencies)


def _crashed(rule: Rule, what: str, error: Exception) -> str:
    """A rule that fails must neither abort the preview (an RPC error) nor pass the resource."""
    return (
        f"policy {rule.name!r} could not judge {what}: {type(error).__name__}: {error};"
        " this is a bug in the flow-platform policy pack, please report it"
    )


def _resource_policy(rule: Rule) -> ResourceValidationPolicy:
    check: ResourceRule = rule.check  # type: ignore[assignment]

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        config = args.get_config() or {}
        for problem in _unknown_keys(rule, config):
            report_violation(problem, None)
        if not rule.applies(args.resource_type):
            return
        try:
            resource = to_resource(args)
            violations = check(resource, config)
        except Exception as error:
            violations = [_crashed(rule, str(args.urn), error)]
        for violation in violations:
            report_violation(violation, None)

    return ResourceValidationPolicy(rule.name, rule.description, validate, config_schema=_schema(rule))


def _stack_policy(rule: Rule) -> StackValidationPolicy:
    check: StackRule = rule.check  # type: ignore[assignment]

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        config = args.get_config() or {}
        for problem in _unknown_keys(rule, config):
            report_violation(problem, None)
        try:
            resources = [to_resource(r) for r in args.resources]
            violations = check(resources, config)
        except Exception as error:
            violations = [("", _crashed(rule, "the stack", error))]
        for urn, violation in violations:
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
