"""`flow-platform check` judges what a real `pulumi preview --policy-pack` judges, or says what it cannot.

Components whose children the kubernetes provider creates (Helm v4 Chart, yaml/v2 ConfigFile and
ConfigGroup, kustomize/v2 Directory) are remote components: during a real preview the engine sends
their children (Deployments, CRDs, RBAC) to the pack, but the mock runtime never sees them.
"""

import pulumi_kubernetes as k8s
import pytest
from conftest import ENVS, ROOT, _rendered
from flow_platform_stacks.tooling import policy_check
from flow_platform_stacks.tooling.harness import run_program
from flow_platform_stacks.tooling.policy_check import PROVIDER_EXPANDED, unseen_components


def _components() -> None:
    k8s.helm.v4.Chart("operator", chart="oci://example.com/charts/operator", version="1.0.0")
    k8s.yaml.v2.ConfigFile("crds", file="crds.yaml")
    k8s.yaml.v2.ConfigGroup("group", yaml="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    k8s.kustomize.v2.Directory("kustomized", directory="overlays/prd")
    k8s.core.v1.ConfigMap("plain", metadata={"name": "plain", "namespace": "team"}, data={"a": "b"})


def test_provider_expanded_components_are_found_by_the_type_the_sdk_registers() -> None:
    registrations = run_program("unseen", {}, [], program=_components)
    unseen = unseen_components(registrations)
    assert sorted(r.name for r in unseen) == ["crds", "group", "kustomized", "operator"]
    assert {r.type for r in unseen} <= set(PROVIDER_EXPANDED)
    assert all(not r.custom for r in unseen), "components: the pack itself never receives them"


@pytest.mark.parametrize("env", ["dev", "prd"])
def test_check_lists_every_component_it_cannot_see(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    from flow_platform_stacks.tooling.cli import main

    unseen = unseen_components(_rendered(env).registrations)
    code = main(["check", env, "--project-dir", str(ROOT)])
    out = capsys.readouterr().out
    for reg in unseen:
        assert f"NOT JUDGED offline: {reg.urn}\n" in out
    assert out.count("NOT JUDGED offline") == len(unseen)
    if unseen:
        assert f"{len(unseen)} component(s) whose children the offline check cannot see" in out
        assert code == (1 if policy_check.UNSEEN_FAILS else 0)
    else:
        assert code == 0


def test_the_guard_fails_the_check_when_switched_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from flow_platform_stacks.tooling.cli import main

    env = next((e for e in ENVS if unseen_components(_rendered(e).registrations)), None)
    if env is None:
        assert policy_check.UNSEEN_FAILS, "no component is left unseen: the guard must fail the check"
        return
    monkeypatch.setattr(policy_check, "UNSEEN_FAILS", True)
    assert main(["check", env, "--project-dir", str(ROOT)]) == 1
    assert "NOT JUDGED offline" in capsys.readouterr().out


def test_check_sends_every_registered_resource_as_the_engine_does() -> None:
    """Components and providers too: the engine's step generator analyzes every goal."""
    from types import SimpleNamespace

    from flow_platform_stacks.tooling.policy_check import Analyzer

    sent: list[str] = []
    stacked: list[str] = []

    class Stub:
        def GetAnalyzerInfo(self, request: object) -> object:
            return SimpleNamespace(policies=[])

        def Analyze(self, request: object) -> object:
            sent.append(request.urn)  # type: ignore[attr-defined]
            return SimpleNamespace(diagnostics=[])

        def AnalyzeStack(self, request: object) -> object:
            stacked.extend(r.urn for r in request.resources)  # type: ignore[attr-defined]
            return SimpleNamespace(diagnostics=[])

    registrations = _rendered("prd").registrations
    Analyzer(Stub()).analyze(registrations)
    assert sent == stacked == [r.urn for r in registrations]
    assert any(not r.custom for r in registrations) and any(
        r.type.startswith("pulumi:providers:") for r in registrations
    )
