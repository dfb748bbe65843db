"""Shared fixtures: run a stack under Pulumi's mock runtime and look at what it registered."""

import contextlib
import copy
import hashlib
import io
import json
import logging
import os
import pickle
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from flow_platform_stacks.errors import ConfigError
from flow_platform_stacks.program import find_project_dir
from flow_platform_stacks.tooling import harness, render
from flow_platform_stacks.tooling.cli import main
from flow_platform_stacks.tooling.harness import FlowMocks, RecordingMonitor, Registration, read_stack_file
from flow_platform_stacks.tooling.render import StackFiles, kubernetes_objects

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
"""Copies of upstream CRDs and schemas the tests read (see its README); nothing outside the clone."""
ENVS = ("dev", "tst", "uat", "prd")


# --- one evaluation per distinct stack per session ------------------------------------------------


@dataclass(frozen=True)
class _Evaluation:
    """A finished run of the stack program, pickled: every hit unpickles its own copy."""

    state: bytes
    """pickle of (monitor.registrations in registration order, monitor.outputs, stand_ins, region)"""
    logs: tuple[logging.LogRecord, ...]
    """What the program logged (the mock engine logs to the root logger), replayed on a hit."""


class EvaluationCache:
    """``run_program`` of the stack program, run once per distinct input per test session.

    The key is everything an evaluation reads: the stack name, the config and secret keys the
    engine passes, the mocks' options (stack outputs, subnet zones, EKS clusters), the text of the
    project's Pulumi.yaml and every Pulumi.<stack>.yaml beside it (the program reads the other
    stacks), and the kubeconfig the cluster check reads. A hit fills the caller's monitor and mocks
    as the run did and replays its log records, so tests cannot tell a hit from a run, except that
    each gets its own copy: a test that changes what it got cannot change what another test sees.

    Runs the program anew (no caching) for a custom program, a monitor or mocks subclass, a test
    marked ``fresh_evaluation`` (determinism, event loops), a test that monkeypatched anything
    the program imports (flow_platform, flow_platform_stacks outside tooling, pulumi*), and when
    the program raises (errors are cheap: they come before registration).
    """

    PROGRAM_MODULES = ("flow_platform", "flow_platform_stacks", "pulumi")

    def __init__(self, run: Callable[..., list[Registration]]) -> None:
        self.run = run
        self.entries: dict[str, _Evaluation] = {}
        self.runs: dict[str, int] = {}
        """Key -> how many times the program really ran for it (1 unless bypassed)."""
        self.hits = 0
        self.request: pytest.FixtureRequest | None = None

    def __call__(
        self,
        stack: str,
        config: dict[str, str],
        secret_keys: list[str],
        program: Callable[..., Any] | None = None,
        monitor: RecordingMonitor | None = None,
        project_dir: Path | None = None,
    ) -> list[Registration]:
        monitor = monitor or RecordingMonitor(FlowMocks())
        mocks = monitor.mocks
        bypass = "patched"
        if program is None and type(monitor) is RecordingMonitor and type(mocks) is FlowMocks:
            bypass = self._bypass()
        if bypass == "patched":
            return self.run(stack, config, secret_keys, program, monitor, project_dir)
        key = self._key(stack, config, secret_keys, mocks, project_dir)
        if bypass != "fresh" and key in self.entries:
            self.hits += 1
            return self._replay(self.entries[key], monitor, mocks)
        records: list[logging.LogRecord] = []
        handler = _Collect(records)
        logging.getLogger().addHandler(handler)
        try:
            result = self.run(stack, config, secret_keys, program, monitor, project_dir)
        finally:
            logging.getLogger().removeHandler(handler)
        state = (monitor.registrations, monitor.outputs, mocks.stand_ins, mocks.aws_region)
        if key not in self.entries:  # a fresh run of a known key leaves the first one in place
            self.entries[key] = _Evaluation(pickle.dumps(state, pickle.HIGHEST_PROTOCOL), tuple(records))
        self.runs[key] = self.runs.get(key, 0) + 1
        return result

    @staticmethod
    def _replay(entry: _Evaluation, monitor: RecordingMonitor, mocks: FlowMocks) -> list[Registration]:
        registrations, outputs, stand_ins, region = pickle.loads(entry.state)
        monitor.registrations.extend(registrations)
        monitor.outputs.update(outputs)
        mocks.stand_ins.extend(stand_ins)
        mocks.aws_region = region
        root = logging.getLogger()
        for record in entry.logs:
            if root.isEnabledFor(record.levelno):
                root.handle(copy.copy(record))
        return sorted(monitor.registrations, key=lambda r: r.urn)

    def _key(
        self,
        stack: str,
        config: dict[str, str],
        secret_keys: list[str],
        mocks: FlowMocks,
        project_dir: Path | None,
    ) -> str:
        project = (project_dir or find_project_dir()).resolve()
        files = {
            p.name: p.read_bytes() for p in [project / "Pulumi.yaml", *sorted(project.glob("Pulumi.*.yaml"))]
        }
        kubeconfig = Path(
            os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or Path.home() / ".kube" / "config"
        )
        try:
            kube = kubeconfig.read_bytes()
        except OSError:
            kube = None
        parts = (
            stack,
            sorted(config.items()),
            sorted(secret_keys),
            [mocks.stack_outputs, mocks.subnet_zones, mocks.eks_clusters, mocks.aws_region, mocks.stand_ins],
            str(project),
            {name: hashlib.sha256(text).hexdigest() for name, text in files.items()},
            str(kubeconfig),
            kube and hashlib.sha256(kube).hexdigest(),
        )
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=repr).encode()).hexdigest()

    def _bypass(self) -> str | None:
        """ "patched": run, keep nothing; "fresh": run, keep it if new; None: use the cache."""
        request = self.request
        if request is None:
            return None
        if "monkeypatch" in request.fixturenames:
            patch = request.getfixturevalue("monkeypatch")
            targets = [obj for obj, *_ in patch._setattr] + [
                d for d, *_ in patch._setitem if d is not os.environ
            ]
            if any(self._reaches_program(t) for t in targets):
                return "patched"
        return "fresh" if request.node.get_closest_marker("fresh_evaluation") else None

    def _reaches_program(self, target: object) -> bool:
        if not isinstance(target, types.ModuleType | type):
            return True  # a patched dict or object: cannot tell who reads it
        name = target.__name__ if isinstance(target, types.ModuleType) else target.__module__
        top = name.split(".")[0]
        return (top in self.PROGRAM_MODULES or top.startswith("pulumi_")) and not name.startswith(
            "flow_platform_stacks.tooling"
        )


class _Collect(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.NOTSET)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


EVALUATIONS = EvaluationCache(harness.run_program)
# Every caller of the stack program goes through the cache: the modules that bound run_program
# before this conftest ran, and (through harness) every test module imported after it.
harness.run_program = render.run_program = run_program = EVALUATIONS  # type: ignore[assignment]


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` (pyproject's addopts): the whole suite runs on every core (xdist's count); a
    selection (paths, node ids, ``-k``, ``-m``) runs in this process, where starting workers that
    import the SDKs again would cost more than they save."""
    whole = config.args_source == pytest.Config.ArgsSource.TESTPATHS
    if whole and not config.option.keyword and not config.option.markexpr:
        return None
    return 0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fresh_evaluation: run the stack program anew instead of the session's earlier evaluation"
    )


@pytest.fixture(autouse=True)
def _evaluation_request(request: pytest.FixtureRequest) -> Iterator[None]:
    """Lets the cache see the running test's markers and monkeypatches."""
    EVALUATIONS.request = request
    yield
    EVALUATIONS.request = None


class Stack:
    """What one stack registered, with lookups tests need."""

    def __init__(
        self,
        name: str,
        registrations: list[Registration],
        stack_outputs: dict[str, Any],
        stand_ins: Iterable[str] = (),
    ) -> None:
        self.name = name
        self.registrations = registrations
        self.stack_outputs = stack_outputs
        self.stand_ins = tuple(stand_ins)
        """The mocks' stand-in lookup answers (FlowMocks.stand_ins), in the order they were given."""

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def objects(self, kind: str | None = None, namespace: str | None = None) -> list[dict[str, Any]]:
        objs = kubernetes_objects(self.registrations)
        return [
            o
            for o in objs
            if (kind is None or o["kind"] == kind)
            and (namespace is None or o["metadata"].get("namespace") == namespace)
        ]

    def one(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        found = [o for o in self.objects(kind, namespace) if o["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name!r}, found {len(found)}"
        return found[0]

    def by_name(self, logical_name: str) -> Registration:
        found = [r for r in self.registrations if r.name == logical_name]
        assert len(found) == 1, f"expected one resource named {logical_name!r}, found {len(found)}"
        return found[0]


def stack_config(env: str) -> tuple[dict[str, str], list[str]]:
    files = StackFiles.locate(env, ROOT)
    return read_stack_file(files.stack_file, files.project_file)


def _rendered(env: str) -> Stack:
    """Each call gets its own copy of the session's one evaluation of ``env``."""
    config, secrets = stack_config(env)
    mocks = FlowMocks()
    monitor = RecordingMonitor(mocks)
    registrations = run_program(env, config, secrets, monitor=monitor)
    return Stack(env, registrations, monitor.stack_outputs(), mocks.stand_ins)


@pytest.fixture(params=ENVS)
def env_stack(request: pytest.FixtureRequest) -> Stack:
    """Each env's stack as its committed Pulumi.<env>.yaml renders it (cached per session)."""
    return _rendered(request.param)


@pytest.fixture
def stack() -> Callable[[str], Stack]:
    return _rendered


Rendered = Callable[[str], tuple[int, str, str, Path]]


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """``flow-platform render <env>`` of a committed stack, run once per session: code, out, err, dir.

    For tests that only read a render; tests that change the files or the directory render anew.
    """
    done: dict[str, tuple[int, str, str, Path]] = {}

    def render(env: str) -> tuple[int, str, str, Path]:
        if env not in done:
            out = tmp_path_factory.mktemp(f"render-{env}") / env
            stdout, stderr = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                code = main(["render", env, "--out", str(out), "--project-dir", str(ROOT)])
            done[env] = (code, stdout.getvalue(), stderr.getvalue(), out)
        return done[env]

    return render


_DATA_YAML: dict[tuple[Path, int], bytes] = {}


def data_yaml(path: Path) -> Any:
    """A YAML data file (a CRD, a chart's values) parsed by libyaml once per session while its
    text is unchanged; each caller gets its own copy. The CRDs are hundreds of KiB: the pure-Python
    parser takes seconds for each."""
    key = (path.resolve(), path.stat().st_mtime_ns)
    if key not in _DATA_YAML:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        _DATA_YAML[key] = pickle.dumps(data, pickle.HIGHEST_PROTOCOL)
    return pickle.loads(_DATA_YAML[key])


def raw_stack_yaml(env: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / f"Pulumi.{env}.yaml").read_text())


def run_config(
    env: str, config: dict[str, Any], secret_keys: Iterable[str] = (), monitor: RecordingMonitor | None = None
) -> list[Registration]:
    """Run the program with a whole ``config:`` mapping (as in a stack file; may hold {secure: ..})."""
    tmp = ROOT / "build" / "test-configs" / str(os.getpid())  # one per xdist worker
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / f"Pulumi.{env}.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    text_config, secrets = read_stack_file(path, ROOT / "Pulumi.yaml")
    return run_program(env, text_config, sorted({*secrets, *secret_keys}), monitor=monitor)


class BadConfig:
    """A mutated copy of an env's config and the error it produced."""

    def __init__(
        self, env: str, mutate: Callable[[dict[str, Any]], None], secret_keys: Iterable[str] = ()
    ) -> None:
        config = copy.deepcopy(raw_stack_yaml(env)["config"])
        mutate(config)
        self.monitor = RecordingMonitor(FlowMocks())
        with pytest.raises(ConfigError) as info:
            run_config(env, config, secret_keys, monitor=self.monitor)
        self.error = info.value
        self.registered = self.monitor.registrations
        self.message = str(info.value)


@pytest.fixture
def bad_config() -> Callable[..., BadConfig]:
    return BadConfig


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True)
