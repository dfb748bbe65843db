"""HyperFlow's task Jobs and the engine's RBAC on a real v1.32 API server.

The Job is the one HyperFlow v1.5.7's own ``k8sJobSubmit.js`` fills from the rendered template (see
tests/hyperflow_support.py); it is server-side applied (dry run) in the env's namespace, after the
env's namespaces, quotas, limits and RBAC are in place, with every warning (Pod Security included)
counted as a failure. The engine's ServiceAccount may do exactly what the engine calls.
"""

import copy
from pathlib import Path

import pytest
from hyperflow_support import NS, _filled_job, needs_node

from .apiserver import Client
from .cluster import admission_problems, service_account_user
from .conftest import Cluster

HYPERFLOW_ENVS = sorted(NS)


@needs_node
@pytest.mark.parametrize("env", HYPERFLOW_ENVS)
def test_the_job_the_engine_creates_is_admitted_with_its_pod(
    kube: Client, cluster: Cluster, env: str, tmp_path: Path
) -> None:
    applied = cluster.env(env)
    assert applied.problems == [], "\n".join(applied.problems)
    job = _filled_job(applied.stack, env, tmp_path)
    assert admission_problems(kube, [job]) == []
    # the pod the Job controller would create: Pod Security enforce, LimitRange and quota admission
    template = job["spec"]["template"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"{job['metadata']['name']}-0", "namespace": NS[env], **template["metadata"]},
        "spec": template["spec"],
    }
    assert admission_problems(kube, [pod]) == []
    # what the engine made of the old template (container name = the worker image) is rejected
    old = copy.deepcopy(job)
    [container] = old["spec"]["template"]["spec"]["containers"]
    container["name"] = container["image"]
    [problem] = admission_problems(kube, [old])
    assert "HTTP 422" in problem and "containers[0].name" in problem


# (verb, group, resource, subresource) the engine must not have: reading or changing Jobs, pods,
# logs, Secrets; only create on Jobs is what v1.5.7 calls (createNamespacedJob)
NOT_NEEDED = [
    ("get", "batch", "jobs", ""),
    ("list", "batch", "jobs", ""),
    ("watch", "batch", "jobs", ""),
    ("delete", "batch", "jobs", ""),
    ("patch", "batch", "jobs", ""),
    ("update", "batch", "jobs", ""),
    ("create", "", "pods", ""),
    ("get", "", "pods", ""),
    ("list", "", "pods", ""),
    ("get", "", "pods", "log"),
    ("create", "", "pods", "exec"),
    ("get", "", "secrets", ""),
    ("list", "", "secrets", ""),
    ("get", "", "configmaps", ""),
    ("create", "batch", "cronjobs", ""),
]


@pytest.mark.parametrize("env", HYPERFLOW_ENVS)
def test_the_engine_may_create_jobs_in_its_namespace_and_nothing_else(
    kube: Client, cluster: Cluster, env: str
) -> None:
    cluster.env(env)
    user, groups = service_account_user(NS[env], "hyperflow-engine")
    assert kube.can(user, groups, "create", "jobs", NS[env], group="batch")
    for verb, group, resource, subresource in NOT_NEEDED:
        assert not kube.can(user, groups, verb, resource, NS[env], group=group, subresource=subresource), (
            f"the engine may {verb} {group}/{resource}{'/' + subresource if subresource else ''}"
        )
    # nowhere else: not in another namespace, not cluster-wide
    assert not kube.can(user, groups, "create", "jobs", "default", group="batch")
    assert not kube.can(user, groups, "create", "jobs", None, group="batch")
