"""Every env's objects as a real v1.32 API server admits them (server-side apply, dry run)."""

import copy
from typing import Any

import pytest
from conftest import ENVS, _rendered

from .apiserver import Client
from .cluster import admission_problems, apply_order, dependencies, transitive, where
from .conftest import AppliedEnv, Cluster

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "FlinkDeployment")


def test_every_object_is_admitted_without_warnings(applied: AppliedEnv) -> None:
    assert len(applied.objects) == len(applied.stack.objects()), "every rendered object is applied"
    assert applied.problems == [], "\n".join(applied.problems)


def _service_account_of(obj: dict[str, Any]) -> str | None:
    spec = obj.get("spec") or {}
    if obj["kind"] == "FlinkDeployment":
        return spec.get("serviceAccount")
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return (spec.get("template", {}).get("spec") or {}).get("serviceAccountName")


@pytest.mark.parametrize("env", ENVS)
def test_apply_order_puts_namespaces_first_and_workloads_after_their_service_account(env: str) -> None:
    registrations = _rendered(env).registrations
    order = apply_order(registrations)
    kinds = [r.inputs["kind"] for r in order]
    namespaces = kinds.count("Namespace")
    assert namespaces and kinds[:namespaces] == ["Namespace"] * namespaces
    position = {r.urn: i for i, r in enumerate(order)}
    deps = dependencies(registrations)
    for reg in order:
        assert all(position[d] < position[reg.urn] for d in deps[reg.urn]), reg.urn
    accounts = {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]): r.urn
        for r in order
        if r.inputs["kind"] == "ServiceAccount"
    }
    checked = 0
    for reg in order:
        obj = reg.inputs
        if obj["kind"] not in WORKLOADS or not _service_account_of(obj):
            continue
        account = accounts.get((obj["metadata"]["namespace"], _service_account_of(obj)))
        assert account, f"{where(obj)} runs as a ServiceAccount the stack does not create"
        assert account in transitive(deps, reg.urn), (
            f"{where(obj)} does not declare a dependency on its ServiceAccount: Pulumi may create it "
            "first, and its pods are rejected until the account exists"
        )
        checked += 1
    assert checked, "no workload with its own ServiceAccount"


# --- the tier catches what it is for ----------------------------------------------------------------


def _scratch_namespace(name: str, like: dict[str, Any]) -> dict[str, Any]:
    """A namespace with the same Pod Security labels (and annotations) as one of the stack's."""
    namespace = copy.deepcopy(like)
    namespace["metadata"]["name"] = name
    return namespace


def _restricted_namespace() -> dict[str, Any]:
    return next(
        o
        for o in _rendered("prd").objects("Namespace")
        if o["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    )


def test_a_deployment_violating_restricted_pod_security_fails(kube: Client) -> None:
    namespace = _scratch_namespace("negative-psa", _restricted_namespace())
    [good] = [d for d in _rendered("prd").objects("Deployment") if d["metadata"]["name"] == "redis"]
    good = copy.deepcopy(good)
    good["metadata"]["namespace"] = "negative-psa"
    assert admission_problems(kube, [namespace, good]) == [], "the unchanged Deployment is admitted"
    bad = copy.deepcopy(good)
    bad["spec"]["template"]["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    problems = admission_problems(kube, [namespace, bad])
    assert len(problems) == 1 and "PodSecurity" in problems[0] and "allowPrivilegeEscalation" in problems[0]
    # the same Deployment in a namespace whose documented exception raises enforce is accepted
    exception = _scratch_namespace("negative-psa-exception", namespace)
    exception["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "privileged"
    exception["metadata"].setdefault("annotations", {})["flow-platform/pod-security-exception"] = "test"
    bad["metadata"]["namespace"] = "negative-psa-exception"
    assert admission_problems(kube, [exception, bad]) == []


def test_an_unknown_field_in_a_custom_resource_fails(kube: Client, cluster: Cluster) -> None:
    [flink] = [o for o in cluster.env("prd").objects if o["kind"] == "FlinkDeployment"]
    assert admission_problems(kube, [flink]) == [], "the unchanged FlinkDeployment is admitted"
    bad = copy.deepcopy(flink)
    bad["spec"]["jobManager"]["replicaCount"] = 2
    [problem] = admission_problems(kube, [bad])
    # server-side apply reports it while building the typed patch, before strict decoding would
    assert ".spec.jobManager.replicaCount: field not declared in schema" in problem
