"""Shared fixtures: run a stack under Pulumi's mock runtime and look at what it registered."""

import contextlib
import copy
import functools
import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml
from flow_platform_stacks.errors import ConfigError
from flow_platform_stacks.tooling.cli import main
from flow_platform_stacks.tooling.harness import (
    FlowMocks,
    RecordingMonitor,
    Registration,
    read_stack_file,
    run_program,
)
from flow_platform_stacks.tooling.render import StackFiles, kubernetes_objects

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
"""Copies of upstream CRDs and schemas the tests read (see its README); nothing outside the clone."""
ENVS = ("dev", "tst", "uat", "prd")


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


@functools.cache
def _rendered(env: str) -> Stack:
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


def raw_stack_yaml(env: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / f"Pulumi.{env}.yaml").read_text())


def run_config(
    env: str, config: dict[str, Any], secret_keys: Iterable[str] = (), monitor: RecordingMonitor | None = None
) -> list[Registration]:
    """Run the program with a whole ``config:`` mapping (as in a stack file; may hold {secure: ..})."""
    tmp = ROOT / "build" / "test-configs"
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
