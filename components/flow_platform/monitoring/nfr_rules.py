"""The two NFRs, monitored continuously: a PrometheusRule for kube-prometheus-stack, and read access
to pods for whoever runs ``flow-platform nfr``.

The rule holds recording rules and alerts for pod restarts (failed pods included) and for the share
of workloads meeting the recommended ulimit, over the namespaces given (see
:mod:`flow_platform.monitoring.promql`). kube-prometheus-stack loads a PrometheusRule only when it
carries the labels of its rule selector (``release: <release name>`` by default).
"""

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, NotRequired, Required, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from .. import PACKAGE
from .. import validation as v
from ..k8s.labels import standard_labels
from .promql import (
    DEFAULT_MAX_RESTARTS,
    DEFAULT_MIN_ULIMIT_PERCENT,
    DEFAULT_ULIMIT_THRESHOLD,
    MAX_ULIMIT_THRESHOLD,
    reader_role_rules,
    rule_groups,
)

API_VERSION = "monitoring.coreos.com/v1"
"""prometheus-operator's PrometheusRule (CRD checked at v0.93.0)."""
SYSTEM = "flow-platform-monitoring"
RULE_NAME = "flow-platform-nfr"
READER_ROLE = "flow-platform-nfr-reader"
DEFAULT_RULE_LABELS = {"release": "kube-prometheus-stack"}
"""kube-prometheus-stack's default rule selector (``ruleSelectorNilUsesHelmValues``), release name
``kube-prometheus-stack``."""
READER_GROUP = "flow-platform-nfr-readers"
"""The Kubernetes group bound to the reader Role by default: map people or CI roles to it (EKS access
entry ``kubernetesGroups``)."""


class SubjectKind(StrEnum):
    """Kinds of RBAC subject the reader Role can be bound to."""

    GROUP = "Group"
    """A Kubernetes group (an EKS access entry's ``kubernetesGroups``)."""
    USER = "User"
    """A Kubernetes user name."""
    SERVICE_ACCOUNT = "ServiceAccount"
    """A service account (needs ``namespace``)."""


class NfrReader(TypedDict):
    """Who may read pods for ``flow-platform nfr``."""

    kind: Required[SubjectKind]
    """Subject kind."""
    name: Required[str]
    """Group, user or service account name."""
    namespace: NotRequired[str]
    """The service account's namespace (``ServiceAccount`` only)."""


class NfrRulesArgs(TypedDict, total=False):
    """Inputs of :class:`NfrRules`."""

    namespace: Required[pulumi.Input[str]]
    """Where the PrometheusRule lives (a namespace kube-prometheus-stack's rule namespace selector
    covers; the chart's default covers all)."""
    env: Required[str]
    """Environment (labels)."""
    namespaces: Required[list[str]]
    """The namespaces both NFRs are measured in; each gets the read-only reader Role."""
    rule_labels: dict[str, str]
    """Labels kube-prometheus-stack's rule selector matches. Default: ``release: kube-prometheus-stack``."""
    ulimit_threshold: int
    """Soft ``nofile`` a container needs (or unlimited). Default: ``65536`` (our choice: what EKS AL2023
    and Bottlerocket nodes set)."""
    max_restarts: int
    """Restarts plus failed pods per namespace before the alert fires. Default: ``0``."""
    min_ulimit_percent: float
    """Share of workloads (0-100) that must meet the ulimit. Default: ``100.0``."""
    readers: list[NfrReader]
    """Bound to the read-only Role (pods get/list) in each namespace. Default: the group
    ``flow-platform-nfr-readers``."""


@v.described("a percentage from 0 to 100")
def percentage(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise ValueError(f"expected a percentage from 0 to 100, got {value!r}")
    return float(value)


@v.described(f"a whole number from 1 to {MAX_ULIMIT_THRESHOLD}")
def ulimit_threshold(value: object) -> int:
    number = v.positive_int(value)
    if number > MAX_ULIMIT_THRESHOLD:
        raise ValueError(
            f"{number} is above {MAX_ULIMIT_THRESHOLD}: Linux caps nofile at fs.nr_open, nothing could pass"
        )
    return number


def _unique_namespaces(args: Mapping[str, Any]) -> str | None:
    names = list(args.get("namespaces", []))
    repeated = sorted({n for n in names if names.count(n) > 1})
    return f"namespaces must be unique: {', '.join(repeated)} repeated" if repeated else None


BROAD_SUBJECTS = {
    "Group": ("system:serviceaccounts", "system:authenticated", "system:unauthenticated"),
    "User": ("system:anonymous",),
}
"""Subjects that stand for everyone (or every account): pod reads are granted to named readers only."""


def broad_subject_problem(kind: str, name: str) -> str | None:
    """Why ``kind``/``name`` may not read pods, or None (the policy pack's rbac-bindings rule agrees)."""
    if name.startswith(BROAD_SUBJECTS.get(kind, ())):
        return f"{kind} {name!r} is everyone (or every account): name the group, user or account that reads"
    return None


def _account_namespace(reader: Mapping[str, Any]) -> str | None:
    is_account = reader.get("kind") == SubjectKind.SERVICE_ACCOUNT.value
    if is_account and "namespace" not in reader:
        return "a ServiceAccount needs its namespace"
    if not is_account and "namespace" in reader:
        return f"only a ServiceAccount has a namespace, not a {reader.get('kind')}"
    return None


ARGS = v.ArgsSpec(
    "NfrRules",
    NfrRulesArgs,
    {
        "namespace": v.namespace_name,
        "env": v.label_value,
        "namespaces": v.list_of(v.namespace_name, min_length=1),
        "rule_labels": v.labels,
        "ulimit_threshold": ulimit_threshold,
        "max_restarts": v.non_negative_int,
        "min_ulimit_percent": percentage,
        "readers": v.list_of(
            v.ArgsSpec(
                "NfrReader",
                NfrReader,
                {"kind": v.one_of(SubjectKind), "name": v.non_empty_text, "namespace": v.namespace_name},
                rules=[
                    v.rule("namespace", _account_namespace),
                    v.rule("name", lambda r: broad_subject_problem(str(r.get("kind")), str(r.get("name")))),
                ],
            ),
            min_length=1,
        ),
    },
    rules=[v.rule("namespaces", _unique_namespaces)],
)


def reader_subjects(readers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """RBAC subjects: users and groups in the RBAC API group, service accounts in the core one."""
    subjects = []
    for reader in readers:
        if reader["kind"] == SubjectKind.SERVICE_ACCOUNT.value:
            subjects.append(
                {"kind": "ServiceAccount", "name": reader["name"], "namespace": reader["namespace"]}
            )
        else:
            subjects.append(
                {"kind": reader["kind"], "name": reader["name"], "apiGroup": "rbac.authorization.k8s.io"}
            )
    return subjects


class NfrRules(pulumi.ComponentResource):
    """Recording rules and alerts for both NFRs, and a read-only pods Role per measured namespace."""

    rule_name: pulumi.Output[str]
    """The PrometheusRule's name."""
    reader_role: pulumi.Output[str]
    """The name of the read-only Role (and RoleBinding) in each measured namespace."""

    def __init__(self, name: str, args: NfrRulesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = ARGS.check(name, args)
        super().__init__(f"{PACKAGE}:index:NfrRules", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        env, namespaces = args["env"], args["namespaces"]
        labels = standard_labels(RULE_NAME, env, SYSTEM, component="nfr")
        groups = rule_groups(
            namespaces,
            ulimit_threshold=args.get("ulimit_threshold", DEFAULT_ULIMIT_THRESHOLD),
            max_restarts=args.get("max_restarts", DEFAULT_MAX_RESTARTS),
            min_ulimit_percent=args.get("min_ulimit_percent", DEFAULT_MIN_ULIMIT_PERCENT),
        )
        k8s.apiextensions.CustomResource(
            f"{name}-rule",
            api_version=API_VERSION,
            kind="PrometheusRule",
            metadata={
                "name": RULE_NAME,
                "namespace": args["namespace"],
                "labels": {**labels, **args.get("rule_labels", DEFAULT_RULE_LABELS)},
            },
            spec={"groups": groups},
            opts=child,
        )
        readers = args.get("readers", [{"kind": SubjectKind.GROUP.value, "name": READER_GROUP}])
        reader_labels = standard_labels(READER_ROLE, env, SYSTEM, component="nfr-reader")
        role_ref: Any = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": READER_ROLE}
        subjects: Any = reader_subjects(readers)
        for namespace in namespaces:
            metadata: Any = {"name": READER_ROLE, "namespace": namespace, "labels": reader_labels}
            rules: Any = reader_role_rules()
            role = k8s.rbac.v1.Role(f"{name}-{namespace}-reader", metadata=metadata, rules=rules, opts=child)
            k8s.rbac.v1.RoleBinding(
                f"{name}-{namespace}-reader-binding",
                metadata=metadata,
                role_ref=role_ref,
                subjects=subjects,
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[role])),
            )
        self.rule_name = pulumi.Output.from_input(RULE_NAME)
        self.reader_role = pulumi.Output.from_input(READER_ROLE)
        self.register_outputs({"rule_name": self.rule_name, "reader_role": self.reader_role})
