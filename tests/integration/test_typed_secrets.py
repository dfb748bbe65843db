"""Typed Secrets render as valid placeholders of their type, never with a real credential."""

import base64
import json

from conftest import ENVS, _rendered
from flow_platform_stacks.errors import SECRET_MASK
from flow_platform_stacks.harness import typed_secret_placeholders


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
    assert out["data"]["other"] == SECRET_MASK
    # a value that is not the mask (not secret in the config) is the user's; never replaced
    plain = {
        "type": "kubernetes.io/dockerconfigjson",
        "stringData": {".dockerconfigjson": '{"auths":{"r":{}}}'},
    }
    assert typed_secret_placeholders(plain) == plain
    opaque = {"type": "Opaque", "stringData": {"key": SECRET_MASK}}
    assert typed_secret_placeholders(opaque) == opaque
