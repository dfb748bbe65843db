"""Read the ``flow-platform:`` config through ``pulumi.Config`` and validate it in one go."""

import json
from collections.abc import Iterator
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config
from pydantic import BaseModel, SecretStr, ValidationError

from . import PROJECT
from .config.stack import StackConfig
from .errors import ConfigError, Problem, did_you_mean, problems_from_validation

OTHER_NAMESPACES = {
    "aws": "AWS provider config",
    "kubernetes": "Kubernetes provider config",
    "pulumi": "engine settings",
}
"""Config namespaces a stack file may hold beside ``flow-platform:``; any other is a mistake."""


def _all_keys() -> set[str]:
    return set(runtime_config.get_config_env()) | set(runtime_config.CONFIG.get())


def _config_keys() -> list[str]:
    """Every ``flow-platform:`` key the engine passed in (explicit map or PULUMI_CONFIG env)."""
    prefix = f"{PROJECT}:"
    return sorted(
        k[len(prefix) :] for k in _all_keys() if k.startswith(prefix) and ":" not in k[len(prefix) :]
    )


def namespace_problems(keys: set[str]) -> list[Problem]:
    """Keys outside ``flow-platform:`` that no accepted namespace explains (a typo drops a whole system)."""
    accepted = ", ".join(f"{name}: ({why})" for name, why in sorted(OTHER_NAMESPACES.items()))
    problems = []
    for key in sorted(keys):
        namespace, sep, rest = key.partition(":")
        if namespace == PROJECT and ":" in rest:
            message = f"one colon only: {PROJECT}:{rest.split(':')[0]} (a nested key goes inside the value)"
        elif namespace == PROJECT or (sep and namespace in OTHER_NAMESPACES):
            continue
        else:
            hint = did_you_mean(namespace, [PROJECT, *OTHER_NAMESPACES])
            message = (
                f"config namespace {namespace!r} is not used by this program; {hint}"
                f"keys belong in {PROJECT}: (this project) or {accepted}"
            )
        problems.append(Problem((), message, where=key))
    return problems


def _decode(text: str) -> Any:
    """Structured values arrive as JSON text; scalars stay strings for pydantic's lax coercion."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(text)
        except ValueError:
            return text  # a string that merely starts with a bracket
    return text


def raw_config() -> tuple[dict[str, Any], set[str]]:
    """The stack's project config as plain data, and the top-level keys that are secrets."""
    config = pulumi.Config(PROJECT)
    raw: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for key in _config_keys():
        text = config.get(key)
        if text is None:
            continue
        raw[key] = _decode(text)
        if runtime_config.is_config_secret(f"{PROJECT}:{key}"):
            secret_keys.add(key)
    return raw, secret_keys


def _secret_paths(model: BaseModel, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        here = (*path, info.alias or name)
        if isinstance(value, SecretStr):
            yield here
        elif isinstance(value, BaseModel):
            yield from _secret_paths(value, here)
        elif isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, BaseModel):
                    yield from _secret_paths(v, (*here, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                if isinstance(v, BaseModel):
                    yield from _secret_paths(v, (*here, i))


def validate(stack: str, raw: dict[str, Any], secret_keys: set[str]) -> StackConfig:
    """Validate raw config; every problem at once, as a :class:`ConfigError`."""
    try:
        parsed = StackConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(stack, problems_from_validation(error, StackConfig, secret_keys)) from None
    leaks = [
        Problem(
            path,
            "is a secret but is stored in plain text: set it with "
            f"`pulumi config set --secret --path '{'.'.join(str(p) for p in path)}'`",
        )
        for path in _secret_paths(parsed)
        if path[0] not in secret_keys
    ]
    if leaks:
        raise ConfigError(stack, leaks)
    return parsed


def load(stack: str | None = None) -> StackConfig:
    """The current stack's validated config (raises :class:`ConfigError`)."""
    stack = stack or pulumi.get_stack()
    raw, secret_keys = raw_config()
    return _checked(stack, namespace_problems(_all_keys()), raw, secret_keys)


def check_texts(stack: str, texts: dict[str, str], secret_keys: list[str]) -> StackConfig:
    """:func:`load` without the Pulumi runtime: full keys -> the text the CLI passes, as
    :func:`~flow_platform_stacks.tooling.harness.read_stack_file` gives them."""
    prefix = f"{PROJECT}:"
    raw = {
        k[len(prefix) :]: _decode(v)
        for k, v in texts.items()
        if k.startswith(prefix) and ":" not in k[len(prefix) :]
    }
    secrets = {k[len(prefix) :] for k in secret_keys if k.startswith(prefix)}
    return _checked(stack, namespace_problems(set(texts)), raw, secrets)


def _checked(stack: str, foreign: list[Problem], raw: dict[str, Any], secret_keys: set[str]) -> StackConfig:
    try:
        cfg = validate(stack, raw, secret_keys)
    except ConfigError as error:
        raise ConfigError(stack, [*foreign, *error.problems]) from None
    if foreign:
        raise ConfigError(stack, foreign)
    return cfg
