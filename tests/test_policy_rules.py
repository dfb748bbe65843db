"""The foundation's guardrail rules judge resources by type and properties alone."""

import sys
from pathlib import Path

import pytest
from conftest import Stack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "policy"))
from rules import namespace_has_pod_security, no_default_namespace


def test_default_namespace_is_a_violation_naming_the_field() -> None:
    props = {"metadata": {"name": "x", "namespace": "default"}}
    [message] = no_default_namespace("kubernetes:apps/v1:Deployment", props)
    assert message.startswith("metadata.namespace is 'default'")
    assert (
        no_default_namespace("kubernetes:apps/v1:Deployment", {"metadata": {"namespace": "partek-dev"}}) == []
    )


@pytest.mark.parametrize(
    ("labels", "fragment"),
    [({}, "is missing"), ({"pod-security.kubernetes.io/enforce": "strict"}, "is 'strict'")],
)
def test_namespace_without_a_valid_psa_label_is_a_violation(labels: dict[str, str], fragment: str) -> None:
    [message] = namespace_has_pod_security("kubernetes:core/v1:Namespace", {"metadata": {"labels": labels}})
    assert fragment in message


def test_every_env_stack_passes_the_foundation_rules(env_stack: Stack) -> None:
    for reg in env_stack.registrations:
        assert no_default_namespace(reg.type, reg.inputs) == [], reg.urn
        assert namespace_has_pod_security(reg.type, reg.inputs) == [], reg.urn
