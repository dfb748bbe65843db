"""Run the CrossGuard pack the way the Pulumi CLI does, and be the engine's side of the conversation.

The CLI (pulumi/pulumi ``sdk/python/cmd/pulumi-language-python`` ``RunPlugin`` for kind ``analyzer``)
runs ``<pack>/<virtualenv>/bin/python -u -m pulumi.policy <engine address> <pack dir>`` in the pack's
directory, with ``PULUMI_PROJECT``, ``PULUMI_STACK``, ``PULUMI_DRY_RUN``, ``PULUMI_ORGANIZATION`` and
``PULUMI_CONFIG`` set; ``virtualenv`` comes from ``PulumiPolicy.yaml``. The pack prints the port it
serves the ``pulumirpc.Analyzer`` protocol on, is configured with an environment's policy config,
receives each resource (``Analyze``) and then the whole stack (``AnalyzeStack``).
"""

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import yaml
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
# Components whose children the provider creates (kubernetes provider 4.x, remote components): the
# engine sends those children to the pack during a real preview, but the mock runtime never sees
# them, so an offline check would pass what a preview fails. Helm v3 Release: nobody sees inside.
PROVIDER_EXPANDED = {
    "kubernetes:helm.sh/v4:Chart": "Helm chart (children rendered by the provider)",
    "kubernetes:yaml/v2:ConfigFile": "YAML file (objects created by the provider)",
    "kubernetes:yaml/v2:ConfigGroup": "YAML group (objects created by the provider)",
    "kubernetes:kustomize/v2:Directory": "kustomization (objects created by the provider)",
    "kubernetes:helm.sh/v3:Release": "Helm release (objects never shown to any policy)",
}
# Listed by `flow-platform check` always, and failing it: the Flink operator (issue 14), the last
# provider-expanded component of the stacks, is deployed as plain resources.
UNSEEN_FAILS = True


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

    process: "PackProcess | None" = None

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
        # The engine analyzes every registered resource, components and providers included
        # (pulumi/pulumi pkg/resource/deploy/step_generator.go: generateSteps runs the analyzers on
        # each goal, AnalyzeStack gets every resource of the deployment): so does the offline check.
        resources = list(registrations)
        # each resource's properties are sent twice (Analyze, then AnalyzeStack): convert them once
        properties = {reg.urn: _struct(reg.inputs) for reg in resources}
        return self.analyze_properties(resources, properties)

    def analyze_properties(
        self, resources: list[Registration], properties: dict[str, struct_pb2.Struct]
    ) -> list[Diagnostic]:
        """Analyze ``resources`` with the given wire properties (tests put unknowns into them)."""
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
                    dependencies=r.options.get("depends_on") or [],
                    propertyDependencies={
                        k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v)
                        for k, v in (r.options.get("property_dependencies") or {}).items()
                    },
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


def unseen_components(registrations: Iterable[Registration]) -> list[Registration]:
    """Registered components whose children the offline check cannot judge (see PROVIDER_EXPANDED)."""
    return [r for r in registrations if r.type in PROVIDER_EXPANDED]


def pack_python(pack_dir: Path) -> Path:
    """The interpreter the CLI runs the pack with: ``runtime.options.virtualenv`` of PulumiPolicy.yaml."""
    project = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text()) or {}
    runtime = project.get("runtime")
    options = runtime.get("options") or {} if isinstance(runtime, dict) else {}
    venv = pack_dir / str(options.get("virtualenv") or "venv")
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def pack_command(pack_dir: Path, python: str | Path, engine_address: str = "127.0.0.1:0") -> list[str]:
    """The CLI's command line for a Python policy pack (``RunPlugin``, kind ``analyzer``)."""
    return [str(python), "-u", "-m", "pulumi.policy", engine_address, str(pack_dir)]


@dataclass
class PackProcess:
    command: list[str]
    process: "subprocess.Popen[str]"


@contextmanager
def running_pack(
    pack_dir: Path, python: str | Path | None = None, stack: str = "offline", project: str = "flow-platform"
) -> Iterator[Analyzer]:
    """Start the pack as the CLI does and connect to the port it prints.

    The interpreter is the pack's own virtualenv (created by ``pulumi install`` in the pack's
    directory, or ``python -m venv policy/venv && policy/venv/bin/pip install -r policy/requirements.txt``)
    when it exists; otherwise the current interpreter, which has the same requirements installed.
    """
    pack_dir = pack_dir.resolve()
    if python is None:
        own = pack_python(pack_dir)
        python = own if own.exists() else sys.executable
    env = {
        **os.environ,
        "PULUMI_PROJECT": project,
        "PULUMI_STACK": stack,
        "PULUMI_DRY_RUN": "true",
        "PULUMI_ORGANIZATION": "organization",
        "PULUMI_CONFIG": "{}",
    }
    command = pack_command(pack_dir, python)
    process = subprocess.Popen(
        command, cwd=pack_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        port = _read_port(process)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=START_TIMEOUT)
        try:
            analyzer = Analyzer(analyzer_pb2_grpc.AnalyzerStub(channel))
            analyzer.process = PackProcess(command, process)
            yield analyzer
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
