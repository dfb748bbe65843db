"""Seeded mutation test: single mutations of every env file either fail cleanly or still render right.

Each env's committed ``Pulumi.<env>.yaml`` gets a few hundred single mutations (delete, rename, wrong
type, empty, huge, unicode, bad quantity, bad CIDR, bad name), chosen by a fixed seed. Every mutation
must either be a config error naming the key path (exit status 2, nothing written), or validate and
render objects that the strict Kubernetes 1.32 schemas and the Flink CRDs still accept. Never a
traceback. Mutations run in-process; accepted ones are rendered once per distinct validated config.
"""

import contextlib
import copy
import functools
import io
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import prometheus_rule_crd
import pytest
import referencing
import yaml
from conftest import ENVS, ROOT, raw_stack_yaml
from flow_platform_stacks.config.stack import SYSTEMS
from flow_platform_stacks.errors import ConfigError, Problem
from flow_platform_stacks.loader import check_texts
from flow_platform_stacks.tooling.cli import main
from flow_platform_stacks.tooling.harness import FlowMocks, RecordingMonitor, read_stack_file, run_program
from flow_platform_stacks.tooling.render import kubernetes_objects
from test_schemas import SPARK_GROUP, flink_crd_validator, spark_crd_validator

SEED = 20261123
PER_ENV = 200
CLI_SAMPLE = 5
BATCH = 8
"""Accepted mutations rendered together."""
"""Mutations per env also run through the CLI (exit status, stderr, output directory)."""
K8S_VERSION = "1.32.0"

Path_ = tuple[str | int, ...]

WRONG_TYPES: list[Any] = [True, 12345, 1.5, ["x"], {"x": 1}, "text"]
HUGE: list[Any] = ["9" * 400, 10**30, "1e300", "x" * 5000, "9999999Ei"]
UNICODE = ["ünïcødé-名前", "\u202edev", "😀", "name\u200b", "\uff46\uff55\uff4c\uff4c"]
BAD_QUANTITIES = ["12Gx", "-1", "1e300", "0.0001Gi", "Infinity", "1,5Gi", "2 Gi"]
BAD_CIDRS = ["10.0.0.0/33", "0.0.0.0/0", "10.0.0.1/8", "fe80::/129", "10.0.0.0"]
BAD_NAMES = ["Bad_Name", "-lead", "a" * 300, "UPPER", "a..b", "trailing-"]
OPERATORS = ("delete", "rename", "wrong type", "empty", "huge", "unicode", "quantity", "cidr", "name")


def _nodes(node: Any, path: Path_) -> Iterator[Path_]:
    """Every key and list item below the stack file's ``config:`` mapping."""
    if path:
        yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _nodes(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _nodes(value, (*path, i))


def _parent(config: dict[str, Any], path: Path_) -> Any:
    node: Any = config
    for part in path[:-1]:
        node = node[part]
    return node


def _mutate(config: dict[str, Any], path: Path_, operator: str, rng: random.Random) -> tuple[str, Path_]:
    parent, last = _parent(config, path), path[-1]
    old = parent[last]
    if operator == "delete":
        del parent[last]
        return "deleted", path
    if operator == "rename":
        assert isinstance(last, str)
        name = last.split(":")[-1]
        typo = name[:-1] if len(name) > 2 and rng.random() < 0.5 else name + "x"
        new_key = last[: len(last) - len(name)] + typo
        parent[new_key] = parent.pop(last)
        return f"renamed to {new_key!r}", (*path[:-1], new_key)
    choices = {
        "wrong type": [v for v in WRONG_TYPES if type(v) is not type(old)],
        "empty": ["", [], {}, None],
        "huge": HUGE,
        "unicode": UNICODE,
        "quantity": BAD_QUANTITIES,
        "cidr": BAD_CIDRS,
        "name": BAD_NAMES,
    }[operator]
    value = rng.choice(choices)
    parent[last] = copy.deepcopy(value)
    return f"set to {value!r:.40}", path


Replay = Callable[[dict[str, Any]], object]


def _mutations(env: str) -> Iterator[tuple[str, dict[str, Any], Path_, Replay]]:
    """(title, mutated config, the key the error should name, the same mutation for another config)."""
    rng = random.Random(f"{SEED}-{env}")
    base = raw_stack_yaml(env)["config"]
    paths = list(_nodes(base, ()))
    for _ in range(PER_ENV):
        config = copy.deepcopy(base)
        path = rng.choice(paths)
        operator = rng.choice(OPERATORS)
        if operator == "rename" and not isinstance(path[-1], str):
            operator = "delete"
        state = rng.getstate()
        what, named = _mutate(config, path, operator, rng)

        def replay(
            other: dict[str, Any], path: Path_ = path, operator: str = operator, state: Any = state
        ) -> object:
            again = random.Random()
            again.setstate(state)
            return _mutate(other, path, operator, again)

        yield f"{env}: {_key(path)} {what}", config, named, replay


def _key(path: Path_) -> str:
    text = str(path[0])
    for part in path[1:]:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _names_the_path(problems: list[Problem], path: Path_) -> bool:
    """Some problem names the mutated key, an ancestor, or a key beside it in the same block.

    A mutation may break a rule that is reported where the fix belongs (a deleted ``clusterIssuer``
    is reported at ``tlsSecret``, "set exactly one of"), or a key of another block that needs it
    (``partek.home.efs`` needs ``aws.efs``); the error still names a key and what is allowed.
    """
    top = str(path[0]).split(":")[-1]
    rest = path[1:]
    for problem in problems:
        if problem.where is not None:
            if str(path[0]) in problem.where or problem.where.startswith("Pulumi."):
                return True
            continue
        if not problem.path:
            continue
        if problem.path[0] != top:
            if problem.path[0] in SYSTEMS and top == "aws":
                return True  # a system that needs what the aws block no longer gives
            if top in SYSTEMS and problem.path[:2] == ("aws", "ecr"):
                return True  # an image the mirror must now copy or cache
            continue
        shared = 0
        for a, b in zip(problem.path[1:], rest, strict=False):
            if a != b:
                break
            shared += 1
        leaf = next((str(p) for p in reversed(rest) if isinstance(p, str)), top)
        if shared >= 1 or not rest or leaf in problem.message or leaf in problem.path:
            return True
    return False


@functools.cache
def _k8s_validator(kind: str, api_version: str) -> Any:
    """kubernetes-validate's strict schema, as its ``validate`` builds it, but once per kind (it
    re-reads the large definitions file for every object otherwise)."""
    import re

    from kubernetes_validate import utils

    version = [v for v in utils.all_versions() if utils.major_minor(v) <= utils.major_minor(K8S_VERSION)][-1]
    schema_dir = f"v{version}-local-strict"
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = utils.schema_contents(
        f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{group_version}.json", K8S_VERSION
    )
    definitions = utils.schema_contents(f"kubernetes-json-schema/{schema_dir}/_definitions.json", K8S_VERSION)
    registry: referencing.Registry[Any] = referencing.Resource.from_contents(schema) @ referencing.Registry()
    registry = referencing.Resource.from_contents(definitions) @ registry
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _schema_errors(objects: list[dict[str, Any]]) -> list[str]:
    errors = []
    for obj in objects:
        if obj["apiVersion"].startswith("flink.apache.org/"):
            validator = flink_crd_validator(obj["kind"])
        elif obj["apiVersion"].startswith(SPARK_GROUP):
            validator = spark_crd_validator(obj["kind"])
        elif obj["apiVersion"].startswith(prometheus_rule_crd.API_GROUP):
            validator = jsonschema.Draft7Validator(prometheus_rule_crd.schema())
        else:
            validator = _k8s_validator(obj["kind"], obj["apiVersion"])
        for error in validator.iter_errors(obj):
            errors.append(f"{obj['kind']}/{obj['metadata'].get('name')}: {error.message:.200}")
    return errors


def test_the_schema_check_here_rejects_what_the_api_server_would() -> None:
    bad_limit = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "x", "namespace": "y"},
        "spec": {"limits": [{"type": "Container", "defaultRequests": {"cpu": "1"}}]},
    }
    assert _schema_errors([bad_limit])
    bad_port = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "x", "namespace": "y"},
        "spec": {"ports": [{"port": "eighty"}]},
    }
    assert _schema_errors([bad_port])
    bad_flink = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {},
        "spec": {"x": 1},
    }
    assert _schema_errors([bad_flink])


def _write(tmp_path: Path, env: str, config: dict[str, Any]) -> Path:
    path = tmp_path / f"Pulumi.{env}.yaml"
    path.write_text(yaml.safe_dump({"config": config}, allow_unicode=True, sort_keys=False))
    return path


@pytest.mark.parametrize("env", ENVS)
def test_every_single_mutation_fails_cleanly_naming_the_key_or_still_renders_valid_objects(
    env: str, tmp_path: Path
) -> None:
    rejected, unnamed, crashed = 0, [], []
    accepted: dict[str, tuple[str, Replay]] = {}
    for title, config, path, replay in _mutations(env):
        stack_file = _write(tmp_path, env, config)
        try:
            texts, secrets = read_stack_file(stack_file, ROOT / "Pulumi.yaml")
            cfg = check_texts(env, texts, secrets)
        except ConfigError as error:
            rejected += 1
            if not _names_the_path(error.problems, path):
                unnamed.append(f"{title}\n{error}")
            continue
        except Exception as error:
            crashed.append(f"{title}: {type(error).__name__}: {error}")
            continue
        accepted.setdefault(cfg.model_dump_json(), (title, replay))
    assert not crashed, "tracebacks instead of config errors:\n" + "\n".join(crashed)
    assert not unnamed, "errors that do not name the mutated key:\n" + "\n\n".join(unnamed[:40])
    assert rejected > PER_ENV // 2, "most mutations must be caught, or the mutations are too gentle"

    # Accepted mutations are rendered together where they combine into a valid config (a render
    # costs a second; a batch shows each mutation's objects all the same), else one by one.
    failed: list[str] = []
    pending = list(accepted.values())
    batches = [pending[i : i + BATCH] for i in range(0, len(pending), BATCH)]
    while batches:
        batch = batches.pop()
        config = copy.deepcopy(raw_stack_yaml(env)["config"])
        try:
            for _, replay in batch:
                replay(config)
            texts, secrets = read_stack_file(_write(tmp_path, env, config), ROOT / "Pulumi.yaml")
            check_texts(env, texts, secrets)
        except (ConfigError, KeyError, IndexError, TypeError):
            if len(batch) == 1:
                failed.append(f"{batch[0][0]}: accepted alone but not on replay")
            else:
                batches += [[one] for one in batch]
            continue
        titles = " + ".join(title for title, _ in batch)
        failed += _render_problems(env, titles, texts, secrets)
    assert not failed, "accepted mutations that render invalid objects or crash:\n" + "\n".join(failed[:20])


def _render_problems(env: str, titles: str, texts: dict[str, str], secrets: list[str]) -> list[str]:
    monitor = RecordingMonitor(FlowMocks())
    try:
        registrations = run_program(env, texts, secrets, monitor=monitor, project_dir=ROOT)
    except ConfigError as error:  # a rule only the program checks: one operator installer per cluster
        registered = [r for r in monitor.registrations if r.type != "pulumi:pulumi:StackReference"]
        assert registered == [], f"{titles}: registered before the error"
        assert _names_the_path(error.problems, ("flow-platform:flink",)), f"{titles}: {error}"
        return []
    except Exception as error:
        return [f"{titles}: {type(error).__name__}: {error}"]
    return [f"{titles}: {e}" for e in _schema_errors(kubernetes_objects(registrations))]


@pytest.mark.parametrize("env", ENVS)
def test_mutations_through_the_cli_exit_2_without_a_traceback_and_write_nothing(
    env: str, tmp_path: Path
) -> None:
    rng = random.Random(f"{SEED}-cli-{env}")
    sample = rng.sample(list(_mutations(env)), CLI_SAMPLE)
    for i, (title, config, _path, _replay) in enumerate(sample):
        stack_file = _write(tmp_path / str(i), env, config) if (tmp_path / str(i)).mkdir() is None else None
        assert stack_file is not None
        out = tmp_path / str(i) / "out"
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            code = main(["render", str(stack_file), "--project-dir", str(ROOT), "--out", str(out)])
        assert code in (0, 2), f"{title}: exit {code}: {stderr.getvalue()}"
        assert "Traceback" not in stderr.getvalue(), title
        if code == 2:
            assert stderr.getvalue().startswith(f"invalid configuration for stack '{env}'"), title
            assert not out.exists(), f"{title}: written despite the error"
        else:
            assert json.loads((out / "outputs.json").read_text())["environment"] == env
