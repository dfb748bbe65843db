"""Typed Secrets render as valid placeholders of their type, never with a real credential."""

import base64
import json

from conftest import ENVS, Stack, _rendered, raw_stack_yaml, run_config
from flow_platform_stacks.errors import SECRET_MASK
from flow_platform_stacks.tooling.harness import typed_secret_placeholders

from .apiserver import Client
from .cluster import admission_problems


def test_docker_config_placeholder_is_an_empty_docker_config_in_every_env() -> None:
    found = 0
    for env in ENVS:
        for secret in _rendered(env).objects("Secret"):
            if secret.get("type") != "kubernetes.io/dockerconfigjson":
                continue
            found += 1
            value = json.loads(secret["stringData"][".dockerconfigjson"])
            assert value == {"auths": {}}, f"{env}: the placeholder must hold no credentials"
    assert found, "no env renders the image-copy job's registry Secret any more"


def test_typed_placeholder_in_data_is_base64_and_other_values_are_left_alone() -> None:
    secret = {
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": SECRET_MASK, "other": SECRET_MASK},
    }
    out = typed_secret_placeholders(secret)
    assert json.loads(base64.b64decode(out["data"][".dockerconfigjson"])) == {"auths": {}}
    assert base64.b64decode(out["data"]["other"]).decode() == SECRET_MASK
    # a value that is not the mask (not secret in the config) is the user's; never replaced
    plain = {
        "type": "kubernetes.io/dockerconfigjson",
        "stringData": {".dockerconfigjson": '{"auths":{"r":{}}}'},
    }
    assert typed_secret_placeholders(plain) == plain
    opaque = {"type": "Opaque", "stringData": {"key": SECRET_MASK}}
    assert typed_secret_placeholders(opaque) == opaque
    encoded = {"type": "Opaque", "data": {"key": "aGVsbG8="}}
    assert typed_secret_placeholders(encoded) == encoded


def test_a_masked_secret_in_data_is_admitted_by_the_api_server(kube: Client) -> None:
    # a CA bundle (a secret config value) is the one Secret rendered with `data`
    config = raw_stack_yaml("dev")["config"]
    config["flow-platform:partek"]["headnode"]["caCerts"] = {"secure": "v1:Y2FjZXJ0cw=="}
    secret = Stack("dev", run_config("dev", config), {}).one("Secret", "flowconfig", "partek-dev")
    assert set(secret["data"]) == {"cacerts"}
    secret["metadata"]["namespace"] = "typed-secrets"
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "typed-secrets"}}
    assert admission_problems(kube, [namespace, secret]) == []
    # the bare mask is not base64, and the API server says so
    secret["data"] = {"cacerts": SECRET_MASK}
    [problem] = admission_problems(kube, [secret])
    assert "illegal base64 data" in problem, problem
