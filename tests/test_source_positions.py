"""The harness's stack trace is the SDK's, frame for frame (#20).

``source_positions.stack_trace`` replaces ``pulumi.runtime.resource._get_stack_trace`` while the
harness runs a program, because the SDK's version reads every frame's source line. Both are
called from the same place at every registration, read and invoke of the four envs and compared.
"""

import pytest
from conftest import ROOT, stack_config
from flow_platform_stacks.tooling import source_positions
from flow_platform_stacks.tooling.harness import FlowMocks, RecordingMonitor, run_program
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import source_pb2


@pytest.mark.fresh_evaluation  # a replay from the session cache would register nothing
@pytest.mark.parametrize("env", ["dev", "tst", "uat", "prd"])
def test_the_same_trace_at_every_registration(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sdk, real = sdk_resource._get_stack_trace, source_positions.stack_trace
    compared: list[source_pb2.StackTrace] = []

    def both() -> source_pb2.StackTrace:
        theirs, ours = sdk(), real()
        assert ours == theirs
        compared.append(ours)
        return ours

    # the harness installs source_positions.stack_trace while it runs: this puts both() there
    monkeypatch.setattr(source_positions, "stack_trace", both)
    config, secrets = stack_config(env)
    monitor = RecordingMonitor(FlowMocks())
    run_program(env, config, secrets, monitor=monitor, project_dir=ROOT)
    assert len(compared) >= len(monitor.registrations)
    # the traces point into the program
    uris = {frame.pc.uri for trace in compared for frame in trace.frames}
    assert any(uri.endswith("/flow_platform_stacks/program.py") for uri in uris)
    assert all(trace.frames for trace in compared)
    assert sdk_resource._get_stack_trace is sdk  # restored after the run


def test_an_empty_trace_where_the_sdk_gives_one() -> None:
    """Called outside any resource constructor (no third __init__), both give an empty trace."""
    assert source_positions.stack_trace() == sdk_resource._get_stack_trace() == source_pb2.StackTrace()
