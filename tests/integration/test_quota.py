"""The pods each env's workloads run at their configured replica counts all fit at once.

A dry-run create only proves that each pod fits alone: quota admission checks a dry-run pod
against the quota but does not record its usage. So the pods are created for real (they stay
Pending; the test server has no nodes), and the API server's own ResourceQuota and LimitRange
admission (defaults, per-container max, the running sum of requests, limits and pod count)
decides, exactly as on the cluster. Pod Security `enforce` is checked on the same pods.
"""

import copy
from collections import Counter
from typing import Any

from conftest import _rendered

from .apiserver import Client
from .cluster import exception_namespaces, make_real, response_problems, where, workload_pods
from .conftest import AppliedEnv


def _create_all(kube: Client, pods: list[dict[str, Any]], exceptions: set[str]) -> list[str]:
    """Create the pods for real; rejections and warnings (as in admission) are the problems."""
    return [problem for pod in pods for problem in response_problems(pod, kube.create(pod), exceptions)]


def test_every_workload_replica_fits_the_namespace_quota_and_limits(
    kube: Client, applied: AppliedEnv
) -> None:
    pods = workload_pods(applied.objects)
    assert pods, "no workload pods"
    assert _create_all(kube, pods, exception_namespaces(applied.objects)) == []
    # quota admission counted every one of them, all at once
    per_namespace = Counter(p["metadata"]["namespace"] for p in pods)
    for quota in (o for o in applied.objects if o["kind"] == "ResourceQuota"):
        namespace = quota["metadata"]["namespace"]
        if namespace not in per_namespace:
            continue
        used = kube.must("read quota", kube.get(quota)).body["status"]["used"]
        assert used["pods"] == str(per_namespace[namespace]), f"{where(quota)} counted {used}"


def test_replicas_beyond_the_quota_are_rejected(kube: Client) -> None:
    stack = _rendered("prd")
    namespace = "partek-flow-prd"
    guardrails = [
        copy.deepcopy(o)
        for o in stack.objects(namespace=namespace)
        if o["kind"] in ("LimitRange", "ResourceQuota")
    ]
    scratch = copy.deepcopy(stack.one("Namespace", namespace))
    scratch["metadata"]["name"] = "negative-quota"
    for obj in guardrails:
        obj["metadata"]["namespace"] = "negative-quota"
    make_real(kube, [scratch, *guardrails])
    workers = copy.deepcopy(stack.one("Deployment", "flowworker", namespace))
    workers["metadata"]["namespace"] = "negative-quota"
    memory = workers["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"]
    [quota] = [o for o in guardrails if o["kind"] == "ResourceQuota"]
    assert memory == "64Gi" and quota["spec"]["hard"]["requests.memory"] == "512Gi"
    workers["spec"]["replicas"] = 9  # 9 x 64Gi > 512Gi: the ninth is the one too many
    rejected = _create_all(kube, workload_pods([workers]), set())
    assert len(rejected) == 1 and "flowworker-8" in rejected[0] and "exceeded quota" in rejected[0], rejected
