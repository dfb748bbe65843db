"""The recording monitor answers plain-data registrations itself, exactly as Pulumi's MockMonitor (#20).

``RecordingMonitor._register_plain`` skips the SDK mock monitor's convert-everything round trip
for inputs that are plain data. What the program sees must not change: every answer (id, URN,
state object) is compared, byte for byte, with the answer of Pulumi's own ``MockMonitor`` given
the same request, for every resource of the four envs.
"""

from typing import Any

import pytest
from conftest import ROOT, stack_config
from flow_platform_stacks.tooling.harness import (
    FlowMocks,
    RecordingMonitor,
    _answers_plain,
    _plain,
    is_plain_data,
    plain_struct,
    run_program,
)
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2

CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"


class SdkAnswers(RecordingMonitor):
    """The recording monitor's URNs, Pulumi's MockMonitor answers."""

    RegisterResource = pulumi_mocks.MockMonitor.RegisterResource


class ComparingMonitor(RecordingMonitor):
    """Sends every request to Pulumi's MockMonitor too and keeps both answers."""

    def __init__(self) -> None:
        super().__init__(FlowMocks())
        self.reference = SdkAnswers(FlowMocks())
        self.answers: list[tuple[str, bool, Any, Any]] = []
        self.conversions = 0

    def RegisterResource(self, request: Any) -> Any:
        plain = is_plain_data(request.object) and _answers_plain(self.mocks, request)
        if is_plain_data(request.object):
            self.conversions += 1
            # the registration's inputs: the fast conversion is the general one's result
            assert plain_struct(request.object) == _plain(json_format.MessageToDict(request.object))
        ours = super().RegisterResource(request)
        theirs = self.reference.RegisterResource(request)  # type: ignore[no-untyped-call]
        self.answers.append((request.type, plain, ours, theirs))
        return ours

    def ReadResource(self, request: Any) -> Any:
        self.reference.ReadResource(request)
        return super().ReadResource(request)


def _wire(response: Any) -> tuple[str, str, bytes]:
    return response.urn, response.id, response.object.SerializeToString(deterministic=True)


@pytest.mark.parametrize("env", ["dev", "tst", "uat", "prd"])
def test_every_answer_is_the_sdk_mock_monitors_answer(env: str) -> None:
    config, secrets = stack_config(env)
    monitor = ComparingMonitor()
    run_program(env, config, secrets, monitor=monitor, project_dir=ROOT)
    assert sum(t != "pulumi:pulumi:Stack" for t, *_ in monitor.answers) == len(monitor.registrations)
    for type_, _, ours, theirs in monitor.answers:
        assert _wire(ours) == _wire(theirs), type_
    assert monitor.conversions > len(monitor.registrations) / 2
    plain = {type_ for type_, is_plain, _, _ in monitor.answers if is_plain}
    assert "kubernetes:apps/v1:Deployment" in plain
    if env == "prd":  # the large ones the shortcut is for
        assert CRD in plain
    # the registered states (get_registered_resources, getResource) are the SDK's too
    ours_states = {urn: tuple(r) for urn, r in monitor.get_registered_resources().items()}
    theirs_states = {urn: tuple(r) for urn, r in monitor.reference.get_registered_resources().items()}
    assert ours_states == theirs_states


def _request(fields: dict[str, Any], type_: str = "kubernetes:core/v1:ConfigMap") -> Any:
    obj = struct_pb2.Struct()
    obj.update(fields)
    return resource_pb2.RegisterResourceRequest(type=type_, name="x", object=obj, custom=True)


def test_only_plain_data_takes_the_shortcut() -> None:
    mocks = FlowMocks()
    assert is_plain_data(
        _request({"data": {"a": "b"}, "metadata": {"name": "x"}, "n": [1, 2.5, True]}).object
    )
    secret = {rpc._special_sig_key: rpc._special_secret_sig, "value": "s"}
    assert not is_plain_data(_request({"data": {"a": secret}}).object)
    assert not is_plain_data(_request({"data": {"a": rpc.UNKNOWN}}).object)
    # the SDK drops a null struct member on its round trip: not plain
    assert not is_plain_data(_request({"metadata": {"annotations": None}}).object)
    assert _answers_plain(mocks, _request({"data": {"a": "b"}}))
    assert not _answers_plain(mocks, _request({"name": "x"}, type_="pulumi:pulumi:StackReference"))
    plain = _request({"b": {"z": 1.0, "a": [2.5, "s", False]}, "a": 3}).object
    assert list(plain_struct(plain)) == ["a", "b"]
    assert plain_struct(plain) == {"a": 3, "b": {"a": [2.5, "s", False], "z": 1}}
    assert plain_struct(plain) == _plain(json_format.MessageToDict(plain))

    class OwnState(FlowMocks):
        def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            return "id", {}

    # mocks with their own new_resource are always asked through the SDK's monitor
    assert not _answers_plain(OwnState(), _request({"data": {"a": "b"}}))
    monitor = RecordingMonitor(OwnState())
    response = monitor.RegisterResource(_request({"data": {"a": "b"}}))
    assert response.id == "id" and not response.object.fields
