"""`flow-platform check` in the engine's order: the pack starts with the evaluation and analyzes each
resource as its registration arrives (pulumi/pulumi pkg/resource/deploy/step_generator.go
generateSteps), then the whole stack; and whatever fails, nothing is left running and nothing hangs.
"""

import asyncio
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pulumi_kubernetes as k8s
import pytest
from conftest import ROOT, Stack, _rendered
from flow_platform_stacks.tooling import harness, policy_check
from flow_platform_stacks.tooling.cli import main
from flow_platform_stacks.tooling.harness import FlowMocks, RecordingMonitor, Registration, run_program
from flow_platform_stacks.tooling.policy_check import (
    Analyzer,
    Diagnostic,
    PackProcess,
    StreamingAnalysis,
    _struct,
    running_pack,
)
from google.protobuf import struct_pb2

PACK = ROOT / "policy"


def _config(env: str) -> dict[str, Any]:
    config: dict[str, Any] = json.loads((PACK / "config" / f"{env}.json").read_text())
    return config


def _key(d: Diagnostic) -> tuple[str, str, str, str]:
    return (d.urn, d.level, d.policy, d.message)


def _live_packs() -> list[str]:
    """Processes this test process started that run a policy pack, from /proc (Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and ("pulumi.policy" in cmdline or "flow-platform-test-pack" in cmdline):
            found.append(f"{entry.name}: {cmdline}")
    return found


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[PackProcess]]:
    """Every pack the code under test starts; afterwards none may be running, nor its worker."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("reads /proc to find processes left running")
    packs: list[PackProcess] = []
    original = policy_check.start_pack

    def recording(*args: Any, **kwargs: Any) -> PackProcess:
        pack = original(*args, **kwargs)
        packs.append(pack)
        return pack

    before = set(_live_packs())  # another module's pack fixture, if any, is not this test's
    monkeypatch.setattr(policy_check, "start_pack", recording)
    yield packs
    assert all(p.process.poll() is not None for p in packs), "a pack is still running"
    assert set(_live_packs()) <= before
    assert not [t for t in threading.enumerate() if t.name == "policy-pack"], "the worker is still running"


def test_struct_is_the_json_round_trip_byte_for_byte(env_stack: Stack) -> None:
    """``_struct`` hands the inputs to Struct.update as they are; the JSON round trip it replaced
    gave the same message for every resource of every env."""
    for reg in env_stack.registrations:
        round_trip = struct_pb2.Struct()
        round_trip.update(json.loads(json.dumps(reg.inputs)))
        assert _struct(reg.inputs).SerializeToString() == round_trip.SerializeToString(), reg.urn
        assert _struct(reg.inputs).SerializeToString(deterministic=True) == round_trip.SerializeToString(
            deterministic=True
        ), reg.urn


def test_each_resource_is_analyzed_while_the_program_still_registers(
    monkeypatch: pytest.MonkeyPatch, started: list[PackProcess]
) -> None:
    """The program registers its second resource only once the pack has answered the Analyze of
    its first: with the analysis after the evaluation (the old order) it would wait in vain."""
    events: list[str] = []
    answered = threading.Event()
    analyze_resource = Analyzer.analyze_resource

    def recording(self: Analyzer, reg: Registration, properties: struct_pb2.Struct) -> list[Diagnostic]:
        found = analyze_resource(self, reg, properties)
        events.append(f"analyzed {reg.name}")
        if reg.name == "first":
            answered.set()
        return found

    monkeypatch.setattr(Analyzer, "analyze_resource", recording)

    async def program() -> None:
        k8s.core.v1.ConfigMap("first", metadata={"name": "first", "namespace": "team"}, data={"a": "b"})
        waited = await asyncio.to_thread(answered.wait, policy_check.START_TIMEOUT)
        events.append(f"program goes on ({'answered' if waited else 'not answered'})")
        k8s.core.v1.ConfigMap("second", metadata={"name": "second", "namespace": "team"}, data={"a": "b"})

    def registered(reg: Registration) -> None:
        events.append(f"registered {reg.name}")
        streaming.submit(reg)

    with StreamingAnalysis(PACK, _config("prd")) as streaming:
        monitor = RecordingMonitor(FlowMocks(), on_register=registered)
        registrations = run_program("stream", {}, [], program=program, monitor=monitor)
        events.append("evaluation done")
        diagnostics = streaming.finish(registrations)
    assert len(started) == 1
    order = [e for e in events if "first" in e or "second" in e or "program" in e]
    assert order == [
        "registered first",
        "analyzed first",
        "program goes on (answered)",
        "registered second",
        "analyzed second",  # the last one may be analyzed after the evaluation: finish() waits
    ], events
    assert {d.urn for d in diagnostics} <= {r.urn for r in registrations} | {""}


def test_streamed_diagnostics_are_the_sequential_ones(started: list[PackProcess]) -> None:
    """Streamed in registration order (half of them; the rest in ``finish``, as after a cached
    evaluation), the diagnostics are those of the old one-after-the-other analysis."""
    registrations = _rendered("dev").registrations  # dev has advisory violations to compare
    config = _config("dev")
    with running_pack(PACK) as analyzer:
        analyzer.configure(config)
        sequential = analyzer.analyze(registrations)
    with StreamingAnalysis(PACK, config) as streaming:
        for reg in reversed(registrations[::2]):
            streaming.submit(reg)
        streamed = streaming.finish(registrations)
    assert sequential, "dev has violations, so the comparison compares something"
    assert sorted(map(_key, streamed)) == sorted(map(_key, sequential))


@pytest.mark.fresh_evaluation  # a cached evaluation registers nothing while the pack runs
def test_check_analyzes_while_the_stack_program_registers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], started: list[PackProcess]
) -> None:
    """The real command: the 10th registration of the stack waits until the pack has answered an
    Analyze; that only happens when the check streams registrations to a pack started before."""
    answered = threading.Event()
    waited: list[bool] = []
    analyze_resource = Analyzer.analyze_resource

    def recording(self: Analyzer, reg: Registration, properties: struct_pb2.Struct) -> list[Diagnostic]:
        found = analyze_resource(self, reg, properties)
        answered.set()
        return found

    register = harness.RecordingMonitor.RegisterResource
    count = [0]

    def holding(self: RecordingMonitor, request: Any) -> Any:
        count[0] += 1
        if count[0] == 10:
            waited.append(answered.wait(policy_check.START_TIMEOUT))
        return register(self, request)

    monkeypatch.setattr(Analyzer, "analyze_resource", recording)
    monkeypatch.setattr(harness.RecordingMonitor, "RegisterResource", holding)
    assert main(["check", "uat", "--project-dir", str(ROOT)]) == 0
    assert waited == [True], "no resource was analyzed before the program's 10th registration"
    assert count[0] > 10
    assert "177 resources, 0 mandatory and 2 advisory violation(s)" in capsys.readouterr().out
    assert len(started) == 1


def test_a_config_error_is_reported_alone_and_stops_the_pack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], started: list[PackProcess]
) -> None:
    stack_file = tmp_path / "Pulumi.mydev.yaml"
    stack_file.write_text(
        (ROOT / "Pulumi.dev.yaml").read_text().replace("cidrs: [10.10.0.0/16]", "cidrs: []")
    )
    assert main(["check", str(stack_file), "--project-dir", str(ROOT)]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("invalid configuration for stack 'mydev'") and out == ""
    assert len(started) == 1, "the pack was started before the evaluation (and stopped)"


def test_a_policy_config_the_pack_refuses_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], started: list[PackProcess]
) -> None:
    unknown = tmp_path / "policy.json"
    unknown.write_text(json.dumps({"no-such-policy": "mandatory"}))
    assert main(["check", "uat", "--project-dir", str(ROOT), "--policy-config", str(unknown)]) == 2
    out, err = capsys.readouterr()
    assert err == f"flow-platform: {unknown}: policy config names unknown policies: no-such-policy\n"
    assert out == ""
    assert len(started) == 1


def _pack_command(code: str) -> Any:
    def command(pack_dir: Path, python: str | Path, engine_address: str = "127.0.0.1:0") -> list[str]:
        return [sys.executable, "-c", code, "flow-platform-test-pack"]

    return command


def test_a_pack_that_fails_to_start_is_one_line_and_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], started: list[PackProcess]
) -> None:
    crash = "import sys; sys.stderr.write('Traceback (most recent call last):\\n  boom\\n'); sys.exit(1)"
    monkeypatch.setattr(policy_check, "pack_command", _pack_command(crash))
    assert main(["check", "uat", "--project-dir", str(ROOT)]) == 3
    out, err = capsys.readouterr()
    assert err.count("\n") == 1, err
    assert "internal error (RuntimeError: the policy pack did not print its port" in err
    assert out == ""
    assert len(started) == 1


def test_a_pack_that_never_prints_its_port_times_out(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], started: list[PackProcess]
) -> None:
    monkeypatch.setattr(policy_check, "START_TIMEOUT", 1.0)
    monkeypatch.setattr(policy_check, "pack_command", _pack_command("import time; time.sleep(600)"))
    began = time.monotonic()
    assert main(["check", "uat", "--project-dir", str(ROOT)]) == 3
    assert time.monotonic() - began < 60, "START_TIMEOUT bounds the wait"
    assert "the policy pack did not print its port (got '')" in capsys.readouterr().err
    assert len(started) == 1


def test_a_pack_that_dies_during_the_analysis_is_an_error_not_a_hang(started: list[PackProcess]) -> None:
    registrations = _rendered("uat").registrations
    with StreamingAnalysis(PACK, _config("uat")) as streaming:
        streaming.submit(registrations[0])
        assert streaming.connected.wait(policy_check.START_TIMEOUT), "the worker connected and configured"
        streaming.pack.process.kill()
        streaming.pack.process.wait()
        began = time.monotonic()
        with pytest.raises(grpc.RpcError):
            streaming.finish(registrations)
        assert time.monotonic() - began < 30
    assert len(started) == 1


def test_the_planned_policy_config_is_the_one_the_namespaces_name(env_stack: Stack) -> None:
    """Decided from the stack file before the evaluation, it is the file the registered namespaces'
    ``deployment`` label leads to afterwards (how check has always chosen it)."""
    from flow_platform_stacks.tooling.cli import _environment, _planned_config_file
    from flow_platform_stacks.tooling.render import StackFiles

    files = StackFiles.locate(env_stack.name, ROOT)
    environment = _environment(env_stack.registrations)
    assert environment == env_stack.name
    assert _planned_config_file(files) == ROOT / "policy" / "config" / f"{environment}.json"


def test_a_stack_without_namespaces_is_checked_against_its_own_name_as_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], started: list[PackProcess]
) -> None:
    """No namespace names the env, so the config is the stack name's (as always): not the file the
    pack was started with; that pack is stopped and the missing file reported."""
    stack_file = tmp_path / "Pulumi.bare.yaml"
    stack_file.write_text(
        "config:\n"
        '  pulumi:disable-default-providers: ["*"]\n'
        "  flow-platform:environment: dev\n"
        "  flow-platform:kubernetes:\n"
        "    context: flow-dev\n"
        "    apiServer: {cidrs: [10.10.0.0/16]}\n"
        "    podSecurityVersion: v1.32\n"
    )
    assert main(["check", str(stack_file), "--project-dir", str(ROOT)]) == 2
    out, err = capsys.readouterr()
    missing = ROOT / "policy" / "config" / "bare.json"
    assert err == f"flow-platform: cannot read policy config {missing}: No such file or directory\n"
    assert out == ""
    assert len(started) == 1, "started for dev.json, stopped when the stack named no env"
