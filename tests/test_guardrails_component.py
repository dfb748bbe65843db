"""NamespaceGuardrails used directly, as another Pulumi project would import it."""

from typing import Any

import pulumi
import pytest
from flow_platform.k8s import NamespaceGuardrails
from flow_platform_stacks.tooling.harness import Registration, run_program

BASE: dict[str, Any] = {
    "namespace": "partek-license-dev",
    "env": "dev",
    "system": "partek",
    "default_request": {"cpu": "100m", "memory": "128Mi"},
    "default_limit": {"memory": "256Mi"},
    "max_limit": {"cpu": "1", "memory": "512Mi"},
    "quota": {"pods": "2"},
}


def _run(args: dict[str, Any]) -> list[Registration]:
    def program() -> None:
        NamespaceGuardrails("license", args)  # type: ignore[arg-type]

    return run_program("lib", {}, [], program=program)


def test_component_type_token_and_parenting() -> None:
    registrations = _run(BASE)
    [component] = [r for r in registrations if r.type == "flow-platform:index:NamespaceGuardrails"]
    assert component.name == "license"
    children = [r for r in registrations if r.parent == component.urn]
    assert sorted(r.name for r in children) == [
        "license-default-deny",
        "license-limits",
        "license-namespace",
        "license-quota",
    ]


def test_an_exception_namespace_records_its_reason_and_keeps_warnings_restricted() -> None:
    reason = "FlexLM creates a network interface with the license's MAC address (NET_ADMIN)"
    registrations = _run({**BASE, "pod_security": "privileged", "pod_security_exception": reason})
    namespace = next(r for r in registrations if r.name == "license-namespace").inputs
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/warn"] == "restricted"
    assert namespace["metadata"]["annotations"] == {"flow-platform/pod-security-exception": reason}


def test_an_exception_without_a_reason_is_refused() -> None:
    with pytest.raises(Exception, match="needs a documented pod_security_exception"):
        _run({**BASE, "pod_security": "privileged"})


def test_protect_applies_to_the_namespace_only() -> None:
    registrations = _run({**BASE, "protect": True})
    protected = sorted(r.name for r in registrations if r.options["protect"])
    assert protected == ["license-namespace"]


def test_outputs_are_registered() -> None:
    captured: dict[str, Any] = {}

    def program() -> None:
        guardrails = NamespaceGuardrails("out", BASE)  # type: ignore[arg-type]
        guardrails.namespace_name.apply(lambda n: captured.setdefault("namespace", n))
        pulumi.export("ns", guardrails.namespace_name)

    run_program("lib", {}, [], program=program)
    assert captured["namespace"] == "partek-license-dev"
