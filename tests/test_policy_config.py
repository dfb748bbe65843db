"""policy/config/<env>.json: exceptions generated from the systems each env deploys, checked both ways
(no exception missing for a workload, none for a workload the env does not deploy)."""

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import ENVS, ROOT, Stack
from flow_platform_stacks.tooling.cli import main
from flow_platform_stacks.tooling.policy_check import Analyzer, running_pack
from flow_platform_stacks.tooling.policy_config import config_path, dumps, exceptions_of, merged, settings_of
from flow_platform_stacks.tooling.render import StackFiles


def _committed(env: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(config_path(ROOT, env).read_text())
    return loaded


def _exceptions(config: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (name, e["namespace"], e["name"])
        for name, policy in config.items()
        if isinstance(policy, dict)
        for e in policy.get("exceptions", [])
    ]


@pytest.mark.parametrize("env", ENVS)
def test_the_committed_config_is_what_the_systems_generate(env: str) -> None:
    environment, exceptions = exceptions_of(StackFiles.locate(env, ROOT))
    assert environment == env
    generated = merged(_committed(env), exceptions)
    committed = _committed(env)
    assert sorted(_exceptions(committed)) == sorted(_exceptions(generated)), "missing or stale exceptions"
    assert config_path(ROOT, env).read_text() == dumps(generated), (
        f"flow-platform policy-config {env} --write"
    )


@pytest.mark.parametrize("env", ENVS)
def test_every_exception_names_a_workload_the_env_deploys(env: str, stack: Any) -> None:
    """The defect: tst, uat and dev held exceptions for workloads they do not deploy."""
    rendered: Stack = stack(env)
    objects = {(o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in rendered.objects()}
    config = _committed(env)
    stale = [e for e in _exceptions(config) if e[1:] not in objects]
    assert not stale, f"exceptions for workloads {env} does not deploy: {stale}"
    namespaces = {o["metadata"]["name"] for o in rendered.objects("Namespace")}
    privileged = config["namespace-pod-security"].get("privilegedNamespaces", [])
    assert set(privileged) <= namespaces, f"privileged namespaces {env} does not create"


@pytest.fixture(scope="module")
def analyzer() -> Any:
    with running_pack(ROOT / "policy") as pack:
        yield pack


@pytest.mark.parametrize("env", ["dev", "prd"])
def test_every_exception_silences_a_finding_the_pack_would_report(
    env: str, stack: Any, analyzer: Analyzer
) -> None:
    """No dormant allowance: without its exceptions, each excepted workload is reported by that policy."""
    analyzer.configure(settings_of(_committed(env)))
    diagnostics = analyzer.analyze(stack(env).registrations)
    for policy, _, name in _exceptions(_committed(env)):
        assert any(d.policy == policy and name in d.message + d.urn for d in diagnostics), (policy, name)
    assert any(d.policy == "namespace-pod-security" for d in diagnostics)


def test_the_command_prints_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "project"
    (project / "policy" / "config").mkdir(parents=True)
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, project / path.name)
    target = project / "policy" / "config" / "tst.json"
    stale = _committed("tst")
    stale["pod-resources"]["exceptions"] = [
        {
            "namespace": "partek-license-tst",
            "name": "flexlmserver",
            "allow": ["cpu-limit"],
            "reason": "x" * 12,
        }
    ]
    target.write_text(dumps(stale))
    args = ["policy-config", "tst", "--project-dir", str(project)]
    assert main(args) == 0
    assert capsys.readouterr().out == config_path(ROOT, "tst").read_text()
    assert main([*args, "--check"]) == 1
    assert "policy-config tst --write" in capsys.readouterr().err
    assert main([*args, "--write"]) == 0
    assert target.read_text() == config_path(ROOT, "tst").read_text()
    assert main([*args, "--check"]) == 0
    assert main(["policy-config", "qa", "--project-dir", str(project)]) == 2
