"""Each env's openflow pod templates, created as Pods in that env's namespace on the real API server.

A template is a ConfigMap value, which the admission test cannot see as a pod: here each becomes the
pod Spark starts from it (Spark adds its labels, env, ports and conf volume, none of which Pod
Security or the LimitRange look at) and is created with a dry run, so restricted Pod Security, the
namespace's LimitRange and its quota judge the sizes the env's config chose. Warnings are errors.
"""

import copy
from typing import Any

import pytest
import yaml

from .apiserver import Client
from .cluster import response_problems
from .conftest import AppliedEnv


def _templates(applied: AppliedEnv) -> list[dict[str, Any]]:
    namespace = f"openflow-{applied.stack.name}"
    maps = [
        o
        for o in applied.objects
        if o["kind"] == "ConfigMap"
        and o["metadata"]["namespace"] == namespace
        and o["metadata"]["name"] == "openflow-pod-templates"
    ]
    pods = []
    for config_map in maps:
        for key, text in sorted(config_map["data"].items()):
            role = key.split("-")[0]
            pod = copy.deepcopy(yaml.safe_load(text))
            pod["metadata"] = {
                "name": f"openflow-template-{role}",
                "namespace": namespace,
                "labels": {**pod["metadata"]["labels"], "spark-role": role},
            }
            pods.append(pod)
    return pods


def test_each_env_s_templates_are_admitted_as_restricted_pods(kube: Client, applied: AppliedEnv) -> None:
    pods = _templates(applied)
    if not pods:
        pytest.skip(f"{applied.stack.name} runs no openflow")
    assert sorted(p["metadata"]["name"] for p in pods) == [
        "openflow-template-driver",
        "openflow-template-executor",
    ]
    problems = []
    for pod in pods:
        problems += response_problems(pod, kube.create(pod, dry_run=True), set())
    assert problems == [], "\n".join(problems)


def test_a_template_that_does_not_state_non_root_is_refused(kube: Client, cluster: Any) -> None:
    # guards the test above: the official image's USER is a name, so without runAsUser the kubelet
    # cannot prove non-root -- but admission only sees the pod: runAsNonRoot alone passes it, and
    # dropping runAsNonRoot as well is what restricted Pod Security refuses
    [pod] = [p for p in _templates(cluster.env("prd")) if p["metadata"]["name"].endswith("executor")]
    bad = copy.deepcopy(pod)
    for key in ("runAsUser", "runAsNonRoot"):
        bad["spec"]["securityContext"].pop(key)
    bad["spec"]["containers"][0]["securityContext"].pop("runAsNonRoot")
    [problem] = response_problems(bad, kube.create(bad, dry_run=True), set())
    assert "PodSecurity" in problem and "runAsNonRoot" in problem
