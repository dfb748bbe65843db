"""Partek Flow's admission facts on a real v1.32 API server (issue #15, Partek half).

- the FlexLM namespace's ValidatingAdmissionPolicy compiles, admits the rendered FlexLM pod and
  denies every other shape (the namespace enforces PSA ``privileged`` only for this pod);
- the rendered LimitRange is exactly what the API server stores, and it leaves the JVM workloads
  without a CPU limit, while a ``max.cpu`` without ``default.cpu`` would give them one.
"""

import copy
import time
from collections.abc import Callable
from typing import Any

import pytest

from .apiserver import Client, Response
from .cluster import where
from .conftest import Cluster

LICENSE_NS = "partek-license-prd"
FLOW_NS = "partek-flow-prd"


def _one(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, f"{kind} {name}: {len(found)}"
    return found[0]


def _pod_of(deployment: dict[str, Any], name: str) -> dict[str, Any]:
    template = copy.deepcopy(deployment["spec"]["template"])
    metadata = {**template["metadata"], "name": name, "namespace": deployment["metadata"]["namespace"]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]}


def _create_real(kube: Client, obj: dict[str, Any]) -> None:
    response = kube.create(obj)
    assert response.ok or response.status == 409, f"{where(obj)}: {response.message}"


@pytest.fixture(scope="module")
def prd(cluster: Cluster, kube: Client) -> list[dict[str, Any]]:
    """prd applied (namespaces, service accounts, quota status), plus what pods need to exist."""
    objects = cluster.env("prd").objects
    for kind in ("PriorityClass", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"):
        _create_real(kube, _one(objects, kind))
    return objects


def _dry_run(kube: Client, pod: dict[str, Any]) -> Response:
    return kube.create(pod, dry_run=True)


def _until_policy_is_active(kube: Client, pod: dict[str, Any]) -> None:
    """The admission plugin sees a new policy within a few seconds: wait until it denies."""
    bad = copy.deepcopy(pod)
    bad["spec"]["hostNetwork"] = True
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if "ValidatingAdmissionPolicy" in _dry_run(kube, bad).message:
            return
        time.sleep(0.5)
    pytest.fail("the FlexLM ValidatingAdmissionPolicy never took effect")


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(pod: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = pod["spec"]
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value

    return change


DENIED = [
    ("another image", _set("containers.0.image", "busybox:1.36"), "only the flexlmserver container"),
    (
        "a second capability",
        _set("containers.0.securityContext.capabilities.add", ["NET_ADMIN", "SYS_ADMIN"]),
        "may add NET_ADMIN and nothing else",
    ),
    (
        "a capability for the installer",
        _set("initContainers.0.securityContext.capabilities.add", ["NET_ADMIN"]),
        "the init container adds no capabilities",
    ),
    ("the host network", _set("hostNetwork", True), "no host network"),
    ("a host port", _set("containers.0.ports.0.hostPort", 27000), "no host ports"),
    (
        "a hostPath volume",
        lambda pod: pod["spec"]["volumes"].append({"name": "host", "hostPath": {"path": "/"}}),
        "no hostPath",
    ),
    (
        "no capability drop",
        _set("containers.0.securityContext.capabilities", {"add": ["NET_ADMIN"]}),
        "every container drops ALL",
    ),
]


def test_the_flexlm_namespace_admits_exactly_the_flexlm_pod(prd: list[dict[str, Any]], kube: Client) -> None:
    server = _pod_of(_one(prd, "Deployment", "flexlmserver"), "flexlm-shape")
    _until_policy_is_active(kube, server)
    admitted = _dry_run(kube, server)
    assert admitted.ok, admitted.message
    for title, change, message in DENIED:
        pod = copy.deepcopy(server)
        change(pod)
        denied = _dry_run(kube, pod)
        assert not denied.ok, f"{title} was admitted"
        assert "ValidatingAdmissionPolicy" in denied.message and message in denied.message, (
            f"{title}: {denied.message}"
        )


def test_the_stored_limit_range_is_the_rendered_one(prd: list[dict[str, Any]], kube: Client) -> None:
    rendered = next(o for o in prd if o["kind"] == "LimitRange" and o["metadata"]["namespace"] == FLOW_NS)
    _create_real(kube, rendered)
    stored = kube.must("read LimitRange", kube.get(rendered)).body
    assert stored["spec"] == rendered["spec"]


def test_a_max_cpu_without_default_would_limit_the_headnode_and_ours_does_not(
    prd: list[dict[str, Any]], kube: Client
) -> None:
    rendered = next(o for o in prd if o["kind"] == "LimitRange" and o["metadata"]["namespace"] == FLOW_NS)
    _create_real(kube, rendered)
    headnode = _pod_of(_one(prd, "Deployment", "flowheadnode"), "headnode-limits")
    ours = _dry_run(kube, headnode)
    assert ours.ok, ours.message
    assert "cpu" not in ours.body["spec"]["containers"][0]["resources"]["limits"]

    seed_style = copy.deepcopy(rendered)
    seed_style["metadata"]["name"] = "seed-style"
    seed_style["spec"]["limits"][0]["max"]["cpu"] = "32"
    seed_style["spec"]["limits"][0].pop("default")
    _create_real(kube, seed_style)
    try:
        stored = kube.must("read LimitRange", kube.get(seed_style)).body["spec"]["limits"][0]
        assert stored["default"]["cpu"] == "32", "the API server defaults the limit to max"
        # LimitRanger reads LimitRanges from its informer, which sees a new one a moment later
        deadline = time.monotonic() + 10
        while True:
            limited = _dry_run(kube, headnode)
            assert limited.ok, limited.message
            limits = limited.body["spec"]["containers"][0]["resources"]["limits"]
            if "cpu" in limits or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert limits.get("cpu") == "32"
    finally:
        kube.request("DELETE", kube.path_of(seed_style))
