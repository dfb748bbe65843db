"""The flow-platform CrossGuard policy pack (``pulumi preview --policy-pack policy``)."""

from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from rules import namespace_has_pod_security, no_default_namespace

Rule = Callable[[str, Mapping[str, Any]], list[str]]


def _validator(rule: Rule) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in rule(args.resource_type, args.props):
            report_violation(f"{args.resource_type} {args.name}: {message}", None)

    return validate


PolicyPack(
    name="flow-platform-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="no-default-namespace",
            description="Kubernetes objects are never deployed into the default namespace.",
            validate=_validator(no_default_namespace),
        ),
        ResourceValidationPolicy(
            name="namespace-pod-security-label",
            description="Every namespace has a Pod Security Admission enforce label.",
            validate=_validator(namespace_has_pod_security),
        ),
    ],
)
