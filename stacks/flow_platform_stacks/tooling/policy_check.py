"""Run the CrossGuard pack the way the Pulumi CLI does, and be the engine's side of the conversation.

The CLI (pulumi/pulumi ``sdk/python/cmd/pulumi-language-python`` ``RunPlugin`` for kind ``analyzer``)
runs ``<pack>/<virtualenv>/bin/python -u -m pulumi.policy <engine address> <pack dir>`` in the pack's
directory, with ``PULUMI_PROJECT``, ``PULUMI_STACK``, ``PULUMI_DRY_RUN``, ``PULUMI_ORGANIZATION`` and
``PULUMI_CONFIG`` set; ``virtualenv`` comes from ``PulumiPolicy.yaml``. The pack prints the port it
serves the ``pulumirpc.Analyzer`` protocol on, is configured with an environment's policy config,
receives each resource (``Analyze``) and then the whole stack (``AnalyzeStack``).

The engine starts the analyzers with the deployment and analyzes each resource as its registration
arrives (pulumi/pulumi ``pkg/resource/deploy/step_generator.go`` ``generateSteps``), then the whole
stack at its end: :class:`StreamingAnalysis` does the same beside the offline evaluation.
"""

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
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


class PolicyConfigError(ValueError):
    """A policy config the pack cannot take (it names policies the pack does not have)."""


def _struct(data: dict[str, Any]) -> struct_pb2.Struct:
    """JSON data (a registration's inputs, a policy's config) as the wire's Struct.

    ``Struct.update`` takes the JSON types as they are (numbers become doubles, as a JSON round
    trip would make them): tests/test_policy_check_stream.py checks the bytes equal the round
    trip's for every resource of every env.
    """
    struct = struct_pb2.Struct()
    struct.update(data)
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
            raise PolicyConfigError(f"policy config names unknown policies: {', '.join(unknown)}")
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
            diagnostics.extend(self.analyze_resource(reg, properties[reg.urn]))
        diagnostics.extend(self.analyze_stack(resources, properties))
        return diagnostics

    def analyze_resource(self, reg: Registration, properties: struct_pb2.Struct) -> list[Diagnostic]:
        """One ``Analyze``: what the engine sends when the resource's registration arrives."""
        response = self.stub.Analyze(
            analyzer_pb2.AnalyzeRequest(
                type=reg.type,
                properties=properties,
                urn=reg.urn,
                name=reg.name,
                options=analyzer_pb2.AnalyzerResourceOptions(protect=bool(reg.options.get("protect"))),
            )
        )
        return _diagnostics(response, reg.urn)

    def analyze_stack(
        self, resources: list[Registration], properties: dict[str, struct_pb2.Struct]
    ) -> list[Diagnostic]:
        """``AnalyzeStack`` with every resource of the deployment."""
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
        return _diagnostics(self.stub.AnalyzeStack(stack), "")


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


class PackCancelled(Exception):
    """The check stopped waiting for the pack (the evaluation failed first)."""


def start_pack(
    pack_dir: Path, python: str | Path | None = None, stack: str = "offline", project: str = "flow-platform"
) -> PackProcess:
    """Start the pack as the CLI does, without waiting for it (:func:`connected` waits).

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
    return PackProcess(command, process)


def stop_pack(pack: PackProcess) -> None:
    """Stop the pack process (as the CLI does when the deployment ends) and reap it."""
    pack.process.terminate()
    try:
        pack.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pack.process.kill()
        pack.process.wait()


@contextmanager
def connected(pack: PackProcess, cancelled: threading.Event | None = None) -> Iterator[Analyzer]:
    """Connect to a started pack once it prints its port (waiting at most START_TIMEOUT)."""
    port = _read_port(pack.process)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        _wait_ready(channel, pack.process, port, cancelled)
        analyzer = Analyzer(analyzer_pb2_grpc.AnalyzerStub(channel))
        analyzer.process = pack
        yield analyzer
    finally:
        channel.close()


@contextmanager
def running_pack(
    pack_dir: Path, python: str | Path | None = None, stack: str = "offline", project: str = "flow-platform"
) -> Iterator[Analyzer]:
    """Start the pack as the CLI does and connect to the port it prints (see :func:`start_pack`)."""
    pack = start_pack(pack_dir, python, stack, project)
    try:
        with connected(pack) as analyzer:
            yield analyzer
    finally:
        stop_pack(pack)


def _read_port(process: subprocess.Popen[str]) -> int:
    result: list[str] = []
    reader = threading.Thread(
        target=lambda: result.append(process.stdout.readline() if process.stdout else ""), daemon=True
    )
    reader.start()
    reader.join(START_TIMEOUT)
    line = result[0].strip() if result else ""
    if not line.isdigit():
        if result and not result[0]:  # end of output: the pack is exiting, say why
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        stderr = process.stderr.read() if process.poll() is not None and process.stderr else ""
        raise RuntimeError(f"the policy pack did not print its port (got {line!r}); {stderr[-2000:]}")
    return int(line)


def _wait_ready(
    channel: grpc.Channel, process: "subprocess.Popen[str]", port: int, cancelled: threading.Event | None
) -> None:
    """Wait for the channel, at most START_TIMEOUT, and no longer than the pack lives."""
    future = grpc.channel_ready_future(channel)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            try:
                future.result(timeout=0.05)
                return
            except grpc.FutureTimeoutError:
                if cancelled is not None and cancelled.is_set():
                    raise PackCancelled() from None
                if process.poll() is not None:
                    stderr = process.stderr.read() if process.stderr else ""
                    raise RuntimeError(
                        f"the policy pack exited ({process.returncode}) before it took connections on"
                        f" port {port}; {stderr[-2000:]}"
                    ) from None
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the policy pack took no connection on port {port} within {START_TIMEOUT:.0f} s"
                    ) from None
    finally:
        future.cancel()


_DONE = object()


class StreamingAnalysis:
    """The engine's side of a deployment's policy analysis, beside the program's evaluation.

    The pack process starts at once (no waiting for its port); a worker thread connects when it
    is ready, configures it, and sends ``Analyze`` for each registration :meth:`submit` hands it
    (the recording monitor's ``on_register``) while the program is still registering.
    :meth:`finish` analyzes what was not streamed (an evaluation replayed from a cache registers
    nothing), then ``AnalyzeStack`` with every resource, and gives the diagnostics or raises the
    worker's error. :meth:`close` (always call it; ``with`` does) stops the pack and the worker.
    """

    def __init__(
        self,
        pack_dir: Path,
        config: dict[str, Any],
        python: str | Path | None = None,
        stack: str = "offline",
        project: str = "flow-platform",
    ) -> None:
        self.config = config
        self.diagnostics: list[Diagnostic] = []
        self.connected = threading.Event()
        """Set once the worker has connected to the pack and configured it."""
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._final: list[Registration] | None = None
        self._cancelled = threading.Event()
        self._error: BaseException | None = None
        self.pack = start_pack(pack_dir, python, stack, project)
        try:
            self._worker = threading.Thread(target=self._work, name="policy-pack", daemon=True)
            self._worker.start()
        except BaseException:
            stop_pack(self.pack)
            raise

    def __enter__(self) -> "StreamingAnalysis":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, registration: Registration) -> None:
        """A resource's registration arrived: analyze it (thread-safe, never blocks)."""
        self._queue.put(registration)

    def finish(self, registrations: list[Registration]) -> list[Diagnostic]:
        """The program is done: every resource (``registrations``) analyzed, then the stack.

        Raises :class:`PolicyConfigError` for a config the pack refuses, or the pack's failure.
        """
        self._final = list(registrations)
        self._queue.put(_DONE)
        self._worker.join()
        if self._error is not None:
            raise self._error
        return self.diagnostics

    def close(self) -> None:
        """Stop the worker and the pack (the worker's blocking calls fail once the pack is gone)."""
        self._cancelled.set()
        self._queue.put(_DONE)
        if self.pack.process.poll() is None:
            stop_pack(self.pack)
        self._worker.join()

    def _work(self) -> None:
        try:
            with connected(self.pack, self._cancelled) as analyzer:
                analyzer.configure(self.config)
                self.connected.set()
                properties: dict[str, struct_pb2.Struct] = {}
                while not self._cancelled.is_set():
                    item = self._queue.get()
                    if item is _DONE:
                        break
                    properties[item.urn] = wire = _struct(item.inputs)
                    self.diagnostics.extend(analyzer.analyze_resource(item, wire))
                final = self._final
                if final is None or self._cancelled.is_set():
                    return
                for reg in final:
                    if reg.urn not in properties:
                        properties[reg.urn] = wire = _struct(reg.inputs)
                        self.diagnostics.extend(analyzer.analyze_resource(reg, wire))
                self.diagnostics.extend(analyzer.analyze_stack(final, properties))
        except BaseException as error:  # handed to finish(), in the main thread
            self._error = error


def group_by_resource(diagnostics: Iterable[Diagnostic]) -> dict[str, list[Diagnostic]]:
    groups: dict[str, list[Diagnostic]] = {}
    for diagnostic in diagnostics:
        groups.setdefault(diagnostic.urn or "(stack)", []).append(diagnostic)
    return dict(sorted(groups.items()))
