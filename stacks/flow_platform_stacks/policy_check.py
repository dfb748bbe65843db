"""Run the CrossGuard pack the way the Pulumi CLI does, and be the engine's side of the conversation.

The pack runs as its own process (``python <pack dir>``), prints the port it serves the
``pulumirpc.Analyzer`` protocol on, is configured with an environment's policy config, receives
each resource (``Analyze``) and then the whole stack (``AnalyzeStack``).
"""

import json
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from .harness import Registration

LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "disabled": analyzer_pb2.DISABLED,
}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    level: str
    message: str
    urn: str


def _struct(data: Any) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(json.loads(json.dumps(data)))
    return struct


def policy_config_request(config: dict[str, Any], policy_names: Iterable[str]) -> Any:
    """The engine's ConfigureAnalyzer request for a ``--policy-pack-config`` file."""
    default = config.get("all")
    entries = {}
    for name in policy_names:
        entry = config.get(name)
        properties: dict[str, Any] = {}
        level = default
        if isinstance(entry, str):
            level = entry
        elif isinstance(entry, dict):
            level = entry.get("enforcementLevel", default)
            properties = {k: v for k, v in entry.items() if k != "enforcementLevel"}
        if level is None and not properties:
            continue
        entries[name] = analyzer_pb2.PolicyConfig(
            enforcementLevel=LEVELS[level or "mandatory"], properties=_struct(properties)
        )
    return analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=entries)


class Analyzer:
    """A connected policy pack process."""

    def __init__(self, stub: Any) -> None:
        self.stub = stub
        self.info = stub.GetAnalyzerInfo(empty_pb2.Empty())
        self.policy_names = [p.name for p in self.info.policies]

    def configure(self, config: dict[str, Any]) -> None:
        unknown = sorted(set(config) - set(self.policy_names) - {"all"})
        if unknown:
            raise ValueError(f"policy config names unknown policies: {', '.join(unknown)}")
        self.stub.Configure(policy_config_request(config, self.policy_names))

    def analyze(self, registrations: list[Registration]) -> list[Diagnostic]:
        resources = [r for r in registrations if r.custom and not r.type.startswith("pulumi:providers:")]
        # each resource's properties are sent twice (Analyze, then AnalyzeStack): convert them once
        properties = {reg.urn: _struct(reg.inputs) for reg in resources}
        diagnostics: list[Diagnostic] = []
        for reg in resources:
            response = self.stub.Analyze(
                analyzer_pb2.AnalyzeRequest(
                    type=reg.type,
                    properties=properties[reg.urn],
                    urn=reg.urn,
                    name=reg.name,
                    options=analyzer_pb2.AnalyzerResourceOptions(protect=bool(reg.options.get("protect"))),
                )
            )
            diagnostics.extend(_diagnostics(response, reg.urn))
        stack = analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(
                    type=r.type,
                    properties=properties[r.urn],
                    urn=r.urn,
                    name=r.name,
                    parent=r.parent or "",
                    options=analyzer_pb2.AnalyzerResourceOptions(protect=bool(r.options.get("protect"))),
                )
                for r in resources
            ]
        )
        diagnostics.extend(_diagnostics(self.stub.AnalyzeStack(stack), ""))
        return diagnostics


def _diagnostics(response: Any, urn: str) -> list[Diagnostic]:
    # CrossGuard prefixes each message with the policy's description; keep the violation itself
    return [
        Diagnostic(
            d.policyName,
            LEVEL_NAMES.get(d.enforcementLevel, "advisory"),
            d.message.removeprefix(f"{d.description}\n"),
            d.urn or urn,
        )
        for d in response.diagnostics
    ]


@contextmanager
def running_pack(pack_dir: Path, python: str | None = None) -> Iterator[Analyzer]:
    """Start the pack as the CLI does and connect to the port it prints."""
    process = subprocess.Popen(
        [python or sys.executable, "-u", str(pack_dir)],
        cwd=pack_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = _read_port(process)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=START_TIMEOUT)
        try:
            yield Analyzer(analyzer_pb2_grpc.AnalyzerStub(channel))
        finally:
            channel.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _read_port(process: subprocess.Popen[str]) -> int:
    result: list[str] = []
    reader = threading.Thread(
        target=lambda: result.append(process.stdout.readline() if process.stdout else "")
    )
    reader.start()
    reader.join(START_TIMEOUT)
    line = result[0].strip() if result else ""
    if not line.isdigit():
        stderr = process.stderr.read() if process.poll() is not None and process.stderr else ""
        raise RuntimeError(f"the policy pack did not print its port (got {line!r}); {stderr[-2000:]}")
    return int(line)


def group_by_resource(diagnostics: Iterable[Diagnostic]) -> dict[str, list[Diagnostic]]:
    groups: dict[str, list[Diagnostic]] = {}
    for diagnostic in diagnostics:
        groups.setdefault(diagnostic.urn or "(stack)", []).append(diagnostic)
    return dict(sorted(groups.items()))
