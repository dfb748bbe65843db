"""The rules the API server, the container runtime, AWS and Flink apply to values we pass through.

Each is a plain function returning a problem (``None`` when the value is fine), so config models and
tests share them. Sources are named on each rule.
"""

import re
import unicodedata
from collections.abc import Mapping, Sequence

from flow_platform.validation import mode_field_problem
from pydantic import BaseModel
from pydantic.alias_generators import to_camel

# github.com/distribution/reference regexp.go (the grammar docker, containerd and the kubelet use)
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_NAME = re.compile(rf"^(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")
NAME_TOTAL_LENGTH_MAX = 255


def image_reference_problem(reference: str) -> str | None:
    """A pinned image reference ``name[:tag][@digest]`` (tag or digest required, never ``latest``)."""
    rest, _, digest = reference.partition("@")
    name, tag = rest, ""
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        name, tag = rest[:colon], rest[colon + 1 :]
    if not _NAME.match(name):
        return (
            f"{name!r} is not an image name: [registry[:port]/]path, path components lowercase letters and"
            " digits separated by '.', '_', '__' or '-'"
        )
    if len(name) > NAME_TOTAL_LENGTH_MAX:
        return f"the image name is longer than {NAME_TOTAL_LENGTH_MAX} characters"
    if tag and not _TAG.match(tag):
        return f"{tag!r} is not an image tag: letters, digits, '_', '.' and '-', at most 128"
    if digest and not _DIGEST.match(digest):
        return f"{digest!r} is not a digest such as sha256:<64 hex digits>"
    if not tag and not digest:
        return "pin the image with a tag or a digest (name:tag or name@sha256:...)"
    if tag == "latest" and not digest:
        return "'latest' is not a version: pin the tag you tested"
    return None


# Flink RestartStrategyOptions (flink-core, release-1.20 and 2.x) and RestartBackoffTimeStrategyFactoryLoader
_FLINK_DURATION = re.compile(
    r"^\d+\s*(d|day|days|h|hour|hours|min|minute|minutes|s|sec|secs|second|seconds|"
    r"ms|milli|millis|millisecond|milliseconds|µs|micro|micros|microsecond|microseconds|"
    r"ns|nano|nanos|nanosecond|nanoseconds)?$"
)
_INT = re.compile(r"^[0-9]+$")
_DOUBLE = re.compile(r"^[0-9]+(\.[0-9]+)?$")
RESTART_TYPES = {
    "none": "none",
    "off": "none",
    "disable": "none",
    "fixeddelay": "fixed-delay",
    "fixed-delay": "fixed-delay",
    "failurerate": "failure-rate",
    "failure-rate": "failure-rate",
    "exponentialdelay": "exponential-delay",
    "exponential-delay": "exponential-delay",
}
RESTART_OPTIONS: dict[str, dict[str, re.Pattern[str]]] = {
    "none": {},
    "fixed-delay": {"attempts": _INT, "delay": _FLINK_DURATION},
    "failure-rate": {
        "max-failures-per-interval": _INT,
        "failure-rate-interval": _FLINK_DURATION,
        "delay": _FLINK_DURATION,
    },
    "exponential-delay": {
        "initial-backoff": _FLINK_DURATION,
        "max-backoff": _FLINK_DURATION,
        "backoff-multiplier": _DOUBLE,
        "reset-backoff-threshold": _FLINK_DURATION,
        "jitter-factor": _DOUBLE,
        "attempts-before-reset-backoff": _INT,
    },
}
_KIND = {
    _INT.pattern: "an integer",
    _DOUBLE.pattern: "a number",
    _FLINK_DURATION.pattern: "a duration (10 s)",
}


def restart_strategy_problems(strategy: Mapping[str, str]) -> list[tuple[str, str]]:
    """(key, problem) for a ``restart-strategy.*`` map written without its prefix."""
    kind = RESTART_TYPES.get(str(strategy.get("type", "")).lower())
    if kind is None:
        allowed = "none, fixed-delay, failure-rate, exponential-delay"
        return [("type", f"{strategy.get('type')!r} is not a Flink restart strategy: one of {allowed}")]
    problems = []
    options = RESTART_OPTIONS[kind]
    for key, value in strategy.items():
        if key == "type":
            continue
        option = key.removeprefix(f"{kind}.")
        pattern = options.get(option)
        if pattern is None:
            allowed = ", ".join(f"{kind}.{o}" for o in options) or "none"
            problems.append((key, f"not an option of restart strategy {kind!r}; allowed: {allowed}"))
        elif not pattern.match(str(value).strip()):
            problems.append((key, f"{value!r} is not {_KIND[pattern.pattern]}"))
    return problems


# AWS: "Tagging AWS resources" user guide, tag restrictions
AWS_TAGS_MAX = 50
AWS_TAG_KEY_MAX = 128
AWS_TAG_VALUE_MAX = 256
_TAG_PUNCTUATION = set("_.:/=+-@ ")


def _aws_tag_text_ok(text: str) -> bool:
    return all(c in _TAG_PUNCTUATION or unicodedata.category(c)[0] in ("L", "N", "Z") for c in text)


def aws_tag_problems(tags: Mapping[str, str], reserved: Mapping[str, str]) -> list[tuple[str | None, str]]:
    """(key or None for the whole map, problem); ``reserved`` are the keys our components set."""
    problems: list[tuple[str | None, str]] = []
    room = AWS_TAGS_MAX - len(reserved)
    if len(tags) > room:
        problems.append(
            (
                None,
                f"{len(tags)} tags: AWS allows {AWS_TAGS_MAX} per resource and the components set"
                f" {len(reserved)} ({', '.join(sorted(reserved))}), so at most {room}",
            )
        )
        return problems
    for key, value in tags.items():
        if key in reserved:
            problems.append((key, f"is set by the components ({reserved[key]}); choose another key"))
        elif not 1 <= len(key) <= AWS_TAG_KEY_MAX or not _aws_tag_text_ok(key):
            problems.append(
                (key, f"a tag key is 1-{AWS_TAG_KEY_MAX} letters, digits, spaces and _ . : / = + - @")
            )
        elif key.lower().startswith("aws:"):
            problems.append((key, "the aws: prefix is reserved for AWS"))
        elif len(value) > AWS_TAG_VALUE_MAX or not _aws_tag_text_ok(value):
            problems.append(
                (key, f"a tag value is 0-{AWS_TAG_VALUE_MAX} letters, digits, spaces and _ . : / = + - @")
            )
    return problems


def check_mode_fields(model: BaseModel, mode: str, fields_by_mode: Mapping[str, Sequence[str]]) -> None:
    """Raise a ``KeyProblem`` on the first field ``mode`` needs but lacks, or that only another mode
    uses (:func:`flow_platform.validation.mode_field_problem`), named by its camelCase key."""
    from ..errors import KeyProblem

    def present(name: str) -> bool:
        value = getattr(model, name)
        return value is not None and value != []

    problem = mode_field_problem(mode, fields_by_mode, present)
    if problem is not None:
        raise KeyProblem([to_camel(problem[0])], problem[1])
