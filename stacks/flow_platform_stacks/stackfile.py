"""Stack and project files read strictly: a mistake is a config error naming the file and line.

PyYAML keeps the last of two duplicate keys, expands aliases without bound and accepts any
document; the Pulumi CLI (Go yaml.v3) refuses duplicates. This reads as strictly as the CLI, and
bounds what aliases may expand to.

Speed: parsed by libyaml (``yaml.CSafeLoader``, 7-9x the pure-Python parser) where PyYAML has it;
the checks above live in the constructor and on the node graph, so they hold with either parser.
A parsed document is kept by its text: the other stacks' files, read by every evaluation for the
cross-stack agreements, are parsed once per process (and re-parsed when they change).
"""

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from .errors import ConfigError, Problem

K = TypeVar("K")
V = TypeVar("V")

MAX_STACK_FILE_BYTES = 1 << 20
"""A stack file is a few kilobytes; a megabyte is a mistake (or an attack), never config."""
MAX_YAML_NODES = 50_000
"""Values a stack file may expand to through YAML aliases: refuses alias bombs before expanding."""


_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser with PyYAML's safe constructor; the pure-Python one where libyaml is missing."""


class _StackFileLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """PyYAML's safe loader, refusing duplicate keys (YAML forbids them; PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.setdefault(key, line)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, f"a key must be a plain value, not {key!r}", key_node.start_mark
                ) from None
            if first != line:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {first})", key_node.start_mark
                )
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def _expanded_size(node: yaml.Node, memo: dict[int, int], limit: int) -> int:
    """How many values ``node`` stands for once every alias is expanded (stops past ``limit``)."""
    known = memo.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node, yaml.SequenceNode):
        children: list[yaml.Node] = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    else:
        children = []
    for child in children:
        size += _expanded_size(child, memo, limit)
        if size > limit:
            break
    memo[id(node)] = size
    return size


_PARSED: dict[str, Any] = {}
"""Text -> document of files read successfully (a few kilobytes each; bounded by _PARSED_MAX)."""
_PARSED_MAX = 64


def load_yaml_file(path: Path, what: str) -> Any:
    """One YAML document, strictly: size-bounded, no duplicate keys, no alias expansion bombs.

    Raises :class:`ConfigError` naming the file and line. Text parsed before (the same bytes) is
    not parsed again; every caller gets its own copy of the document.
    """
    stack = stack_name_of(path)

    def fail(message: str, mark: Any = None) -> ConfigError:
        where = f"{path.name}" + (f", line {mark.line + 1}, column {mark.column + 1}" if mark else "")
        return ConfigError(stack, [Problem((), f"{message} ({what})", where=where)])

    try:
        size = path.stat().st_size
        if size > MAX_STACK_FILE_BYTES:
            raise fail(f"is {size} bytes, more than the {MAX_STACK_FILE_BYTES} a stack file may hold")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise fail("is not UTF-8 text") from None
    if text not in _PARSED:
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[text] = _parse(text, fail)
    return copy.deepcopy(_PARSED[text])


def _parse(text: str, fail: Callable[..., ConfigError]) -> Any:
    loader = _StackFileLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}, MAX_YAML_NODES) > MAX_YAML_NODES:
            raise fail(
                f"expands to more than {MAX_YAML_NODES} values through YAML aliases (*name):"
                " write the values out",
                node.start_mark,
            )
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        message = " ".join(filter(None, [error.context, error.problem])) or "is not valid YAML"
        raise fail(f"not valid YAML: {message}", error.problem_mark or error.context_mark) from None
    except yaml.YAMLError as error:
        raise fail(f"not valid YAML: {error}") from None
    except RecursionError:
        raise fail("nests values too deeply") from None
    finally:
        loader.dispose()


def stack_name_of(stack_file: Path) -> str:
    """``Pulumi.<stack>.yaml`` -> ``<stack>``; another file name -> its stem."""
    parts = stack_file.name.split(".")
    return parts[1] if len(parts) == 3 and parts[0] == "Pulumi" else stack_file.stem


def stack_file_config(stack_file: Path) -> dict[str, Any]:
    """The ``config:`` mapping of a stack file (empty when absent); :class:`ConfigError` otherwise."""
    doc = load_yaml_file(stack_file, "a stack file")
    stack = stack_name_of(stack_file)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        problem = f"must be a mapping with a config: key, not a {type(doc).__name__}"
        raise ConfigError(stack, [Problem((), problem, where=stack_file.name)])
    config = doc.get("config")
    if config is None:
        return {}
    if not isinstance(config, dict):
        problem = f"config: must be a mapping of keys to values, not a {type(config).__name__}"
        raise ConfigError(stack, [Problem((), problem, where=stack_file.name)])
    bad = [k for k in config if not isinstance(k, str)]
    if bad:
        problem = f"config keys must be strings, not {bad[0]!r}"
        raise ConfigError(stack, [Problem((), problem, where=stack_file.name)])
    return config


def other_stacks(
    project_dir: Path,
    stack: str,
    purpose: str,
    extract: Callable[[str, dict[str, Any]], tuple[K, V] | None],
    fallback_reason: str,
) -> dict[K, list[V]]:
    """What ``extract`` finds in every other stack file of the project, grouped by its key.

    Another stack's file is read only for an agreement between stacks (one CRD manager per
    cluster, one owner of a shared registry): a file that cannot be read is that stack's
    problem, reported as a warning naming ``purpose``, never this stack's error.
    """
    import pulumi  # here, not at module level: the CLI's --help imports no SDK

    grouped: dict[K, list[V]] = {}
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        name = path.name.split(".")[1]
        if name == stack:
            continue
        try:
            found = extract(name, stack_file_config(path))
        except (ConfigError, AttributeError, KeyError, TypeError) as error:
            reason = (
                str(error).splitlines()[-1].strip() if isinstance(error, ConfigError) else fallback_reason
            )
            pulumi.log.warn(f"{path.name} is ignored for {purpose}: {reason}")
            continue
        if found is not None:
            key, value = found
            grouped.setdefault(key, []).append(value)
    return grouped
