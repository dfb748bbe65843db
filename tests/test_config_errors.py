"""Bad config stops the run with a message naming the stack, key, value and what is allowed.

Every case starts from a committed env file, breaks one thing, and checks both the message and
that the program registered nothing at all (not even the provider).
"""

from collections.abc import Callable
from typing import Any

import pytest

Config = dict[str, Any]


def _set(path: str, value: Any) -> Callable[[Config], None]:
    """Set ``flow-platform:a.b.c`` in a stack file's config mapping."""

    def mutate(config: Config) -> None:
        top, *rest = path.split(".")
        key = f"flow-platform:{top}"
        if not rest:
            config[key] = value
            return
        node = config[key]
        for part in rest[:-1]:
            node = node[part]
        node[rest[-1]] = value

    return mutate


def _delete(path: str) -> Callable[[Config], None]:
    def mutate(config: Config) -> None:
        top, *rest = path.split(".")
        if not rest:
            del config[f"flow-platform:{top}"]
            return
        node = config[f"flow-platform:{top}"]
        for part in rest[:-1]:
            node = node[part]
        del node[rest[-1]]

    return mutate


def _rename(path: str, new: str) -> Callable[[Config], None]:
    def mutate(config: Config) -> None:
        top, *rest = path.split(".")
        if not rest:
            config[f"flow-platform:{new}"] = config.pop(f"flow-platform:{top}")
            return
        node = config[f"flow-platform:{top}"]
        for part in rest[:-1]:
            node = node[part]
        node[new] = node.pop(rest[-1])

    return mutate


CASES: list[tuple[str, str, Callable[[Config], None], list[str]]] = [
    (
        "unknown top-level key",
        "dev",
        _rename("partek", "partk"),
        ["flow-platform:partk", "unknown key", "did you mean 'partek'?"],
    ),
    (
        "typo in a nested key",
        "dev",
        _rename("kubernetes.context", "contxt"),
        ["flow-platform:kubernetes.contxt", "did you mean 'context'?", "allowed keys: apiServer, context"],
    ),
    (
        "snake_case key instead of camelCase",
        "tst",
        _rename("partek.limits.defaultRequest", "default_request"),
        ["flow-platform:partek.limits.default_request", "did you mean 'defaultRequest'?"],
    ),
    (
        "environment outside the four",
        "dev",
        _set("environment", "prod"),
        ["flow-platform:environment = 'prod'", "'dev', 'tst', 'uat' or 'prd'"],
    ),
    (
        "quantity that is not one",
        "dev",
        _set("partek.limits.max.memory", "64Gx"),
        ["flow-platform:partek.limits.max.memory = '64Gx'", "Kubernetes quantity", "16Gi"],
    ),
    (
        "memory without a unit",
        "uat",
        _set("flink.limits.defaultRequest.memory", "512"),
        ["flow-platform:flink.limits.defaultRequest.memory = '512'", "add a unit"],
    ),
    (
        "memory in millibytes",
        "dev",
        _set("hyperflow.quota.requestsMemory", "500m"),
        ["flow-platform:hyperflow.quota.requestsMemory = '500m'", "use Mi or Gi"],
    ),
    (
        "default limit above the maximum (compared as numbers, 40Gi > 32Gi)",
        "dev",
        _set("partek.limits.defaultLimit.memory", "40Gi"),
        ["flow-platform:partek.limits.defaultLimit.memory", "40Gi is above max.memory (32Gi)"],
    ),
    (
        "container maximum that the quota can never admit",
        "prd",
        _set("flink.limits.max.memory", "400Gi"),
        ["flow-platform:flink.limits.max.memory", "above quota.limitsMemory (384Gi)"],
    ),
    (
        "pod quota of zero",
        "tst",
        _set("hyperflow.quota.pods", 0),
        ["flow-platform:hyperflow.quota.pods = 0", "greater than or equal to 1"],
    ),
    (
        "prd without protection",
        "prd",
        _set("protect", False),
        ["flow-platform:protect", "must be true in prd"],
    ),
    (
        "neither a context nor a kubeconfig",
        "dev",
        _delete("kubernetes.context"),
        ["flow-platform:kubernetes.context", "exactly one of kubernetes.context"],
    ),
    (
        "API server CIDR that does not parse",
        "dev",
        _set("kubernetes.apiServer.cidrs", ["10.10.0/16"]),
        ["flow-platform:kubernetes.apiServer.cidrs[0]", "'10.10.0/16' is not a CIDR block"],
    ),
    (
        "API server CIDR that opens everything",
        "uat",
        _set("kubernetes.apiServer.cidrs", ["0.0.0.0/0"]),
        ["flow-platform:kubernetes.apiServer.cidrs[0]", "opens egress to everything"],
    ),
    (
        "API server port out of range",
        "dev",
        _set("kubernetes.apiServer.port", 70000),
        ["flow-platform:kubernetes.apiServer.port = 70000", "less than or equal to 65535"],
    ),
    (
        "namespace that is not a DNS label",
        "dev",
        _set("partek.namespace", "Partek_Dev"),
        ["flow-platform:partek.namespace = 'Partek_Dev'", "DNS label"],
    ),
    (
        "the default namespace",
        "dev",
        _set("flink.namespace", "default"),
        ["flow-platform:flink.namespace = 'default'", "system namespace"],
    ),
    (
        "two systems in one namespace",
        "prd",
        _set("flink.namespace", "partek-flow-prd"),
        ["flow-platform:flink.namespace", "already the namespace of partek"],
    ),
    (
        "missing environment",
        "tst",
        _delete("environment"),
        ["flow-platform:environment", "required key is missing"],
    ),
    (
        "pod security version that is not v1.N or latest",
        "dev",
        _set("kubernetes.podSecurityVersion", "1.32"),
        ["flow-platform:kubernetes.podSecurityVersion = '1.32'", "String should match pattern"],
    ),
    (
        "kubeconfig stored in plain text",
        "dev",
        lambda c: (
            c["flow-platform:kubernetes"].pop("context"),
            c["flow-platform:kubernetes"].update(kubeconfig="apiVersion: v1\nkind: Config\n"),
        ),
        ["flow-platform:kubernetes.kubeconfig", "stored in plain text", "pulumi config set --secret"],
    ),
]


@pytest.mark.parametrize(("title", "env", "mutate", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_config_is_a_clear_error_before_anything_is_registered(
    bad_config: Any, title: str, env: str, mutate: Callable[[Config], None], expected: list[str]
) -> None:
    result = bad_config(env, mutate)
    assert result.message.startswith(f"invalid configuration for stack '{env}'")
    for fragment in expected:
        assert fragment in result.message, f"{title}: {fragment!r} not in:\n{result.message}"
    assert result.registered == [], f"{title}: resources were registered before the error"


def test_all_problems_are_reported_at_once(bad_config: Any) -> None:
    def two_mistakes(config: Config) -> None:
        _set("environment", "qa")(config)
        _set("partek.quota.pods", -1)(config)

    result = bad_config("dev", two_mistakes)
    assert "(2 problem(s))" in result.message
    assert "flow-platform:environment = 'qa'" in result.message
    assert "flow-platform:partek.quota.pods = -1" in result.message


def test_a_secret_value_is_never_echoed_in_an_error(bad_config: Any) -> None:
    def secret_and_wrong(config: Config) -> None:
        kube = config["flow-platform:kubernetes"]
        kube.pop("context")
        kube["kubeconfig"] = {"secure": "v1:c2VjcmV0"}
        kube["apiServer"]["port"] = "not-a-port"

    result = bad_config("dev", secret_and_wrong)
    assert "flow-platform:kubernetes.apiServer.port = '[secret]'" in result.message
    assert "not-a-port" not in result.message
