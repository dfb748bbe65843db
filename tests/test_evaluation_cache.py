"""The session's evaluation cache (conftest.EvaluationCache): one run per distinct input, a copy per
caller, and a fresh run whenever something the program reads may differ."""

import logging
from pathlib import Path
from typing import Any

import pytest
from conftest import EVALUATIONS, EvaluationCache, _rendered
from flow_platform_stacks.tooling import harness
from flow_platform_stacks.tooling.harness import FlowMocks, RecordingMonitor, Registration


class FakeProgram:
    """Stands in for harness.run_program: counts runs, registers one resource, logs one warning."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(
        self,
        stack: str,
        config: dict[str, str],
        secret_keys: list[str],
        program: Any = None,
        monitor: RecordingMonitor | None = None,
        project_dir: Path | None = None,
    ) -> list[Registration]:
        assert monitor is not None
        self.runs += 1
        monitor.registrations.append(
            Registration(
                f"urn:{stack}", "kubernetes:core/v1:ConfigMap", "cm", True, None, None, {"data": {"a": "1"}}
            )
        )
        monitor.outputs[f"urn:pulumi:{stack}::flow-platform::pulumi:pulumi:Stack::flow-platform-{stack}"] = {
            "o": 1
        }
        monitor.mocks.stand_ins.append("a stand-in")  # type: ignore[attr-defined]
        logging.getLogger().warning("run %d of %s", self.runs, stack)
        return list(monitor.registrations)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: flow-platform\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    return tmp_path


def _run(
    cache: EvaluationCache, project: Path, mocks: FlowMocks | None = None
) -> tuple[list[Registration], RecordingMonitor]:
    monitor = RecordingMonitor(mocks or FlowMocks())
    return cache(
        "dev", {"flow-platform:environment": "dev"}, [], monitor=monitor, project_dir=project
    ), monitor


def test_a_second_evaluation_is_a_copy_of_the_first_with_its_outputs_stand_ins_and_logs(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeProgram()
    cache = EvaluationCache(fake)
    first, _ = _run(cache, project)
    first[0].inputs["data"]["a"] = "changed by a test"
    caplog.clear()
    second, monitor = _run(cache, project)
    assert fake.runs == 1 and cache.hits == 1
    assert second[0].inputs == {"data": {"a": "1"}}, "what one caller changed, the next does not see"
    assert monitor.registrations == second and monitor.stack_outputs() == {"o": 1}
    assert monitor.mocks.stand_ins == ["a stand-in"]  # type: ignore[attr-defined]
    assert [r.getMessage() for r in caplog.records] == ["run 1 of dev"], "the run's log is replayed"


def test_another_stack_file_beside_it_other_mocks_or_another_kubeconfig_run_the_program_again(
    project: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeProgram()
    cache = EvaluationCache(fake)
    _run(cache, project)
    (project / "Pulumi.tst.yaml").write_text("config: {}\n")  # the program reads the other stacks
    _run(cache, project)
    _run(cache, project, FlowMocks(eks_clusters={"c": {"issuer": "i"}}))
    kubeconfig = tmp_path_factory.mktemp("kube") / "config"
    kubeconfig.write_text("clusters: []\n")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    _run(cache, project)
    assert fake.runs == 4
    _run(cache, project)
    assert fake.runs == 4


def test_a_test_that_patches_the_program_or_asks_for_fresh_runs_gets_them(
    project: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    from flow_platform_stacks import program

    fake = FakeProgram()
    cache = EvaluationCache(fake)
    cache.request = request
    _run(cache, project)
    monkeypatch.setattr(harness, "COMPUTED", harness.COMPUTED)  # tooling: not read by the program
    _run(cache, project)
    assert fake.runs == 1
    monkeypatch.setattr(program, "find_project_dir", program.find_project_dir)
    _run(cache, project)
    _run(cache, project)
    assert fake.runs == 3


def test_every_caller_of_the_stack_program_goes_through_the_session_cache() -> None:
    from flow_platform_stacks.tooling import render

    assert harness.run_program is EVALUATIONS and render.run_program is EVALUATIONS
    first = _rendered("dev")
    runs, hits = dict(EVALUATIONS.runs), EVALUATIONS.hits
    second = _rendered("dev")
    assert EVALUATIONS.runs == runs and EVALUATIONS.hits == hits + 1
    assert second.registrations == first.registrations
    assert second.registrations[0] is not first.registrations[0]
