"""Running HyperFlow v1.5.7's own code against what the stacks render (tests/data/hyperflow-1.5.7).

Shared by tests/test_hyperflow.py and the integration tier's HyperFlow tests.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, Stack

NS = {"dev": "hyperflow-dev", "tst": "hyperflow-tst", "prd": "hyperflow-prd"}
SERVER_ENVS = ("tst", "prd")
RBAC = "kubernetes:rbac.authorization.k8s.io/v1"
ENGINE_DIR = ROOT / "tests" / "data" / "hyperflow-1.5.7"
HARNESS = ROOT / "tests" / "hyperflow_engine.js"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(
    NODE is None, reason="node is not installed: the engine's own code cannot run"
)
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
TEST_PASSWORD = "test-only-password-0123456789"
# hyperflow-wms/hyperflow-job-executor jobexec.js (the worker image's hflow-job-execute): its usage
EXECUTOR_USAGE = (
    "Usage:\n"
    "  hflow-job-execute <taskId> <redisUrl>\n"
    "  hflow-job-execute <redisUrl> -a [--] <taskId>...\n"
    "  hflow-job-execute -h | --help"
)


def _engine(stack: Stack, env: str) -> dict[str, Any]:
    return stack.one("Deployment", "hyperflow-engine", NS[env])


def _engine_container(stack: Stack, env: str) -> dict[str, Any]:
    [container] = _engine(stack, env)["spec"]["template"]["spec"]["containers"]
    return container


def _secrets(stack: Stack, namespace: str) -> dict[tuple[str, str], str]:
    """What the kubelet would read from each Secret; redis's password is a test stand-in (the
    render shows secrets as ``[secret]``)."""
    out = {}
    for secret in stack.objects("Secret", namespace):
        for key in {**secret.get("stringData", {}), **secret.get("data", {})}:
            out[(secret["metadata"]["name"], key)] = TEST_PASSWORD if key == "password" else "[secret]"
    return out


def resolve_env(
    container: dict[str, Any], namespace: str, secrets: dict[tuple[str, str], str]
) -> dict[str, str]:
    """A container's environment as the kubelet builds it: fieldRef, secretKeyRef, and ``$(VAR)``
    expanded from the variables defined before it (``$$`` escapes)."""
    env: dict[str, str] = {}
    for item in container.get("env", []):
        if "valueFrom" in item:
            source = item["valueFrom"]
            if "fieldRef" in source:
                assert source["fieldRef"]["fieldPath"] == "metadata.namespace"
                env[item["name"]] = namespace
            else:
                ref = source["secretKeyRef"]
                assert (ref["name"], ref["key"]) in secrets, f"no Secret {ref} in {namespace}"
                env[item["name"]] = secrets[(ref["name"], ref["key"])]
            continue

        def expand(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name = match.group(1)
            return env.get(name, match.group(0))

        env[item["name"]] = re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", expand, item.get("value", ""))
    return env


def _events(stdout: str) -> list[dict[str, Any]]:
    return [
        json.loads(line[len("HARNESS ") :]) for line in stdout.splitlines() if line.startswith("HARNESS ")
    ]


def run_engine(args: list[str], env: dict[str, str], timeout: float = 30) -> tuple[list[dict[str, Any]], str]:
    assert NODE is not None
    result = subprocess.run(
        [NODE, str(HARNESS), *args],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return _events(result.stdout), result.stdout + result.stderr


def _engine_env_for_test(stack: Stack, env: str, template: Path) -> dict[str, str]:
    """The engine container's environment, with the job template read from a file of the test."""
    container = _engine_container(stack, env)
    values = resolve_env(container, NS[env], _secrets(stack, NS[env]))
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert values["HF_VAR_JOB_TEMPLATE_PATH"] in mounts, "the engine reads the template where it is mounted"
    values["HF_VAR_JOB_TEMPLATE_PATH"] = str(template)
    return values


def _template(stack: Stack, env: str) -> tuple[dict[str, Any], str]:
    [config_map] = [
        c
        for c in stack.objects("ConfigMap", NS[env])
        if c["metadata"]["name"].startswith("hyperflow-job-template")
    ]
    return config_map, str(config_map["data"]["job-template.yaml"])


def run_task(stack: Stack, env: str, exit_code: int, tmp_path: Path) -> tuple[list[dict[str, Any]], str]:
    """One workflow task through the engine's k8sCommand, its job ending with ``exit_code``."""
    _, text = _template(stack, env)
    template = tmp_path / "job-template.yaml"
    template.write_text(text)
    return run_engine(["task", str(exit_code)], _engine_env_for_test(stack, env, template))


def _filled_job(stack: Stack, env: str, tmp_path: Path) -> dict[str, Any]:
    events, output = run_task(stack, env, 0, tmp_path)
    calls = [e for e in events if e["kind"] == "api"]
    assert len(calls) == 1, output
    namespace, job = calls[0]["args"]
    assert namespace == NS[env]
    job["metadata"]["namespace"] = namespace
    return dict(job)
