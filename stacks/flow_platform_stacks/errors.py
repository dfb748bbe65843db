"""Config errors a person can act on: stack, full key path, the bad value, what is allowed."""

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Union

from pydantic import BaseModel, ValidationError

from . import PROJECT

SECRET_MASK = "[secret]"


class KeyProblem(ValueError):
    """Raised inside validators to point an error at a key below the model being validated."""

    def __init__(self, subpath: Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.subpath = tuple(subpath)
        self.message = message


class KeyProblems(ValueError):
    """Several :class:`KeyProblem` found by one validator, reported together."""

    def __init__(self, problems: Sequence[KeyProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Problem:
    path: tuple[str | int, ...]
    message: str
    value: Any = None
    has_value: bool = False
    where: str | None = None
    """Names the place instead of a key path: a file and line, or a key of another namespace."""

    def key(self) -> str:
        if self.where is not None:
            return self.where
        text = f"{PROJECT}:"
        for i, part in enumerate(self.path):
            if isinstance(part, int):
                text += f"[{part}]"
            else:
                text += ("." if i else "") + part
        return text


class ConfigError(Exception):
    """Every problem in one stack's configuration, raised before any resource is registered."""

    def __init__(self, stack: str, problems: Iterable[Problem]) -> None:
        self.stack = stack
        self.problems = sorted(problems, key=lambda p: (p.where or "", [str(x) for x in p.path]))
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"invalid configuration for stack '{self.stack}' ({len(self.problems)} problem(s)):"]
        for problem in self.problems:
            value = f" = {problem.value!r}" if problem.has_value else ""
            lines.append(f"  - {problem.key()}{value}: {problem.message}")
        return "\n".join(lines)


def _unwrap(annotation: Any) -> list[Any]:
    """The model classes an annotation may hold (through Optional, list, dict, Annotated)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType, list, tuple, dict):
        return [m for arg in typing.get_args(annotation) for m in _unwrap(arg)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def _models_at(root: type[BaseModel], path: Sequence[str | int]) -> list[type[BaseModel]]:
    models: list[type[BaseModel]] = [root]
    for part in path:
        if isinstance(part, int):
            continue
        found: list[type[BaseModel]] = []
        for model in models:
            for name, info in model.model_fields.items():
                if part in (info.alias, name):
                    found.extend(_unwrap(info.annotation))
        if not found:
            # a dict key (free-form name) keeps the value model of the dict
            continue
        models = found
    return models


def allowed_keys(root: type[BaseModel], path: Sequence[str | int]) -> list[str]:
    """The keys a person may write at ``path`` below ``root`` (by alias)."""
    keys = {
        info.alias or name for model in _models_at(root, path) for name, info in model.model_fields.items()
    }
    return sorted(keys)


def _is_secret_field(root: type[BaseModel], path: Sequence[str | int]) -> bool | None:
    """Whether the field at ``path`` holds a secret; None when the path names no field."""
    if not path or not isinstance(path[-1], str):
        return None
    for model in _models_at(root, path[:-1]):
        for name, info in model.model_fields.items():
            if path[-1] in (info.alias, name):
                return "SecretStr" in repr(info.annotation)
    return None


def did_you_mean(key: str, allowed: Sequence[str]) -> str:
    lowered = {a.lower(): a for a in allowed}
    match = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.6)
    return f"did you mean '{lowered[match[0]]}'? " if match else ""


def problems_from_validation(
    error: ValidationError, root: type[BaseModel], secret_keys: set[str]
) -> list[Problem]:
    problems: list[Problem] = []
    for item in error.errors():
        path = tuple(item["loc"])
        message = item["msg"]
        ctx = item.get("ctx") or {}
        cause = ctx.get("error")
        if isinstance(cause, KeyProblems):
            problems.extend(Problem(path + p.subpath, p.message) for p in cause.problems)
            continue
        if isinstance(cause, KeyProblem):
            path = path + cause.subpath
            message = cause.message
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            allowed = allowed_keys(root, path[:-1])
            message = f"unknown key; {did_you_mean(str(path[-1]), allowed)}allowed keys: {', '.join(allowed)}"
            problems.append(Problem(path, message))
            continue
        if item["type"] == "missing":
            problems.append(Problem(path, "required key is missing"))
            continue
        secret_field = _is_secret_field(root, path)
        # unknown field shapes under a secret key are masked, to be safe
        secret = secret_field or (secret_field is None and bool(path) and path[0] in secret_keys)
        value = SECRET_MASK if secret else item.get("input")
        show = not isinstance(cause, KeyProblem) and not isinstance(value, dict | list)
        problems.append(Problem(path, message, value, has_value=show))
    return problems
