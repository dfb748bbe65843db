"""The pack as the Pulumi CLI runs it: its own process speaking the Analyzer protocol."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import seed_mistakes
from conftest import ENVS, ROOT, _rendered
from flow_platform_stacks.tooling.harness import run_program
from flow_platform_stacks.tooling.policy_check import Analyzer, Diagnostic, running_pack

PACK = ROOT / "policy"


def _config(env: str) -> dict[str, Any]:
    return json.loads((PACK / "config" / f"{env}.json").read_text())


@pytest.fixture(scope="module")
def analyzer() -> Iterator[Analyzer]:
    with running_pack(PACK) as pack:
        yield pack


def test_the_pack_describes_itself_over_grpc(analyzer: Analyzer) -> None:
    assert analyzer.info.name == "flow-platform-guardrails"
    assert {"pod-security-context", "rbac-bindings", "namespace-guardrails", "stateful-protected"} <= set(
        analyzer.policy_names
    )


@pytest.mark.parametrize("env", ENVS)
def test_every_env_passes_its_own_policy_config(analyzer: Analyzer, env: str) -> None:
    analyzer.configure(_config(env))
    diagnostics = analyzer.analyze(_rendered(env).registrations)
    mandatory = [d for d in diagnostics if d.level == "mandatory"]
    assert mandatory == [], "\n".join(d.message for d in mandatory)


def _seed_diagnostics(analyzer: Analyzer, env: str = "prd") -> list[Diagnostic]:
    registrations = run_program("seed", {}, [], program=seed_mistakes.program)
    analyzer.configure(_config(env))
    return analyzer.analyze(registrations)


def test_the_seeds_mistakes_fail_with_the_expected_policies(analyzer: Analyzer) -> None:
    diagnostics = _seed_diagnostics(analyzer)
    failed = {d.policy for d in diagnostics if d.level == "mandatory"}
    assert {
        "rbac-bindings",
        "rbac-rules",
        "rbac-namespaced",
        "no-host-path",
        "pod-resources",
        "image-source",
        "pod-security-context",
        "no-default-namespace",
        "service-exposure",
        "namespace-guardrails",
    } <= failed
    messages = [d.message for d in diagnostics]
    assert any(
        "ClusterRoleBinding serviceaccounts-cluster-admin: roleRef.name: binds cluster-admin" in m
        for m in messages
    )
    assert any("subjects[0]: grants to the group 'system:serviceaccounts'" in m for m in messages)
    assert any("Pod default/flowheadnode: spec.volumes[0].hostPath" in m for m in messages)
    assert any("spec.containers[0].resources.limits.memory: no memory limit" in m for m in messages)
    assert any(
        "spec.containers[0].image: 'registry.partek.com/rtw:latest' has no pinned tag" in m for m in messages
    )
    assert any("spec.containers[0].securityContext.runAsUser: runs as UID 0" in m for m in messages)
    assert any("adds NET_ADMIN" in m for m in messages), "an exception for another workload does not apply"
    assert any("Namespace hyperflow: missing LimitRange, ResourceQuota" in m for m in messages)


def test_dev_reports_the_same_mistakes_as_advisory(analyzer: Analyzer) -> None:
    diagnostics = _seed_diagnostics(analyzer, "dev")
    assert diagnostics
    assert {d.level for d in diagnostics} == {"advisory"}


def test_a_typo_in_policy_config_is_an_error(analyzer: Analyzer) -> None:
    config = _config("prd")
    config["pod-resource"] = {"enforcementLevel": "mandatory"}
    with pytest.raises(ValueError, match="unknown policies: pod-resource"):
        analyzer.configure(config)
    config = _config("prd")
    config["pod-resources"]["maxMemroy"] = "1Gi"
    analyzer.configure(config)
    diagnostics = analyzer.analyze(_rendered("prd").registrations)
    assert any("unknown key 'maxMemroy'" in d.message and d.level == "mandatory" for d in diagnostics)


def test_unknown_values_skip_only_the_unknown_field(analyzer: Analyzer) -> None:
    """During preview a computed image must not hide the missing memory limit next to it."""
    from flow_platform_stacks.tooling.harness import Registration
    from pulumi.runtime.rpc import UNKNOWN

    pod = Registration(
        urn="urn:pulumi:prd::flow-platform::kubernetes:core/v1:Pod::p",
        type="kubernetes:core/v1:Pod",
        name="p",
        custom=True,
        parent=None,
        provider=None,
        inputs={
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "namespace": "x"},
            "spec": {
                "automountServiceAccountToken": False,
                "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [
                    {
                        "name": "c",
                        "image": UNKNOWN,
                        "resources": {"requests": {"cpu": "1", "memory": "1Gi"}},
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]},
                            "readOnlyRootFilesystem": True,
                        },
                    }
                ],
            },
        },
    )
    analyzer.configure(_config("prd"))
    diagnostics = analyzer.analyze([pod])
    messages = [d.message for d in diagnostics]
    assert any("resources.limits.memory: no memory limit" in m for m in messages)
    assert not any("can't run policy" in m for m in messages), messages
    assert not any(d.policy == "image-source" for d in diagnostics), (
        "the unknown image is skipped, not failed"
    )


def test_check_command_passes_a_good_stack(capsys: pytest.CaptureFixture[str]) -> None:
    from flow_platform_stacks.tooling.cli import main

    assert main(["check", "prd", "--project-dir", str(ROOT)]) == 0
    assert "0 mandatory" in capsys.readouterr().out


def test_check_command_groups_violations_and_fails_on_a_mandatory_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flow_platform_stacks.tooling.cli import main

    config = _config("prd")
    config["image-source"]["allowedRegistries"] = ["registry.example.com/"]
    strict = tmp_path / "prd.json"
    strict.write_text(json.dumps(config))
    assert main(["check", "prd", "--project-dir", str(ROOT), "--policy-config", str(strict)]) == 1
    out = capsys.readouterr().out
    assert (
        "urn:pulumi:prd::flow-platform::flow-platform:index:FlowHeadnode$kubernetes:apps/v1:Deployment::flow-headnode-deployment\n"
        in out
    )
    assert (
        "  [mandatory] image-source: Deployment partek-flow-prd/flowheadnode:"
        " spec.template.spec.containers[0].image" in out
    )


def test_each_request_is_converted_once_not_once_per_policy() -> None:
    """flow_policies.speed memoizes pulumi_policy's per-policy conversion by request identity: the
    pinned pulumi_policy has the layout it patches, and a new request is never served a cached one."""
    import sys

    sys.path.insert(0, str(PACK))
    from flow_policies import speed
    from google.protobuf import struct_pb2
    from pulumi_policy import policy

    assert speed.install() is True and speed.install() is True
    first, second = struct_pb2.Struct(), struct_pb2.Struct()
    first.update({"spec": {"a": 1}})
    second.update({"spec": {"a": 1}})
    converted = policy.json_format.MessageToDict(first)
    assert policy.json_format.MessageToDict(first) is converted
    assert policy.json_format.MessageToDict(second) is not converted
    assert policy.json_format.MessageToDict(second) == converted
    deserialized = policy.deserialize_properties(converted)
    assert policy.deserialize_properties(converted) is deserialized
    assert policy.unknown_checking_proxy(deserialized) is policy.unknown_checking_proxy(deserialized)
