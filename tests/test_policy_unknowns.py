"""Unknown values (computed during preview) at every depth, over the real Analyzer gRPC protocol.

During ``pulumi preview`` the engine marshals every value it cannot know yet as the string
``04da6b54-80e4-46f7-96ec-b56ff0331ba9`` (``pulumi.runtime.rpc.UNKNOWN``; pulumi_policy's
``proxy.UNKNOWN_STRING_VALUE``); pulumi_policy wraps the properties in a proxy that raises
``UnknownValueError`` on reading one. Here every value of every resource shape of every env's
render, at every depth (whole lists, list elements, objects, fields), is replaced by it in turn and
sent to the pack over gRPC: no RPC error, no rule crash, and never a violation that the known value
did not have (an unknown field is skipped, never failed).
"""

import copy
import random
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
from conftest import ENVS, ROOT, _rendered
from flow_platform_stacks.tooling.harness import Registration
from flow_platform_stacks.tooling.policy_check import Analyzer, _struct, running_pack
from pulumi.runtime.rpc import UNKNOWN as WIRE_UNKNOWN

Path_ = tuple[str | int, ...]
# a resource's own name and namespace decide which exceptions apply: an unknown one may add findings
IDENTITY = {("metadata",), ("metadata", "name"), ("metadata", "namespace")}
CRASH = "this is a bug in the flow-platform policy pack"


def test_the_wire_sentinel_is_pulumi_policys() -> None:
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    assert WIRE_UNKNOWN == UNKNOWN_STRING_VALUE == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def paths(value: Any, at: Path_ = ()) -> Iterator[Path_]:
    if at:
        yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*at, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from paths(item, (*at, i))


def with_unknown(inputs: dict[str, Any], path: Path_) -> dict[str, Any]:
    """A copy of ``inputs`` with the value at ``path`` unknown (only the nodes on the path are copied)."""
    out = dict(inputs)
    node: Any = out
    for part in path[:-1]:
        child = node[part]
        node[part] = child = dict(child) if isinstance(child, dict) else list(child)
        node = child
    node[path[-1]] = WIRE_UNKNOWN
    return out


def set_unknown(inputs: Any, path: Path_) -> None:
    node = inputs
    for part in path[:-1]:
        node = node[part]
        if not isinstance(node, dict | list):
            return  # inside a value already replaced
    node[path[-1]] = WIRE_UNKNOWN


def shapes() -> list[Registration]:
    """One resource per (type, set of field paths) over the four envs' renders (components and
    providers included: the engine analyzes those too)."""
    seen: dict[tuple[str, tuple[str, ...]], Registration] = {}
    for env in ENVS:
        for reg in _rendered(env).registrations:
            if reg.type == "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition":
                # the Flink release's own CRDs (tens of thousands of schema paths, none a rule reads)
                continue
            key = (reg.type, tuple(sorted(map(str, paths(reg.inputs)))))
            seen.setdefault(key, reg)
    return list(seen.values())


@pytest.fixture(scope="module")
def analyzer() -> Iterator[Analyzer]:
    import json

    with running_pack(ROOT / "policy") as pack:
        pack.configure(json.loads((ROOT / "policy" / "config" / "prd.json").read_text()))
        yield pack


def _analyze(analyzer: Analyzer, reg: Registration, inputs: dict[str, Any]) -> set[tuple[str, str]]:
    from pulumi.runtime.proto import analyzer_pb2

    try:
        response = analyzer.stub.Analyze(
            analyzer_pb2.AnalyzeRequest(type=reg.type, properties=_struct(inputs), urn=reg.urn, name=reg.name)
        )
    except grpc.RpcError as error:  # pragma: no cover - the failure this test exists for
        pytest.fail(f"Analyze failed for {reg.urn}: {error}")
    return {(d.policyName, _same_container(d.message)) for d in response.diagnostics}


def _same_container(message: str) -> str:
    """The finding: its resource and field path (the text after them may name fewer known values).
    A container whose name is unknown is labelled by index instead of name: the same finding."""
    finding = ": ".join(message.split("\n")[-1].split(": ")[:2])
    return re.sub(r"containers\[[^\]]*\]", "containers[*]", finding)


def synthetic() -> list[Registration]:
    """Kinds the renders do not have (yet): custom resources' pods, patches, exposure, RBAC, IAM."""
    import test_policy_classes as classes

    pod = classes.good_pod()
    pod["containers"][0]["securityContext"]["privileged"] = True
    made = [
        classes.spark(
            sidecars=[{"name": "log", "image": "fluent-bit:3", "securityContext": {"runAsUser": 0}}]
        ),
        classes.flink(taskManager={"resource": {"cpu": 2, "memory": "4g"}, "podTemplate": {"spec": pod}}),
        classes._kind("kubernetes:apps/v1:DeploymentPatch", pod),
        classes._kind("kubernetes:batch/v1:CronJob", pod),
        classes._role(
            [{"apiGroups": ["", "*"], "resources": ["secrets", "pods/exec"], "verbs": ["get", "create"]}]
        ),
        classes._policy({"Effect": "Allow", "Action": ["s3:PutObject", "iam:*"], "Resource": "*"}),
    ]
    scheduled = classes.spark()
    made.append(
        classes.Resource(
            "kubernetes:sparkoperator.k8s.io/v1beta2:ScheduledSparkApplication",
            "sched",
            {"metadata": scheduled.props["metadata"], "spec": {"template": scheduled.props["spec"]}},
        )
    )
    service = {
        "metadata": {"name": "s", "namespace": "n"},
        "spec": {"type": "LoadBalancer", "externalIPs": ["1.2.3.4"]},
    }
    made.append(classes.Resource("kubernetes:core/v1:Service", "s", service))
    return [
        Registration(
            f"urn:pulumi:x::p::{r.type}::{r.name}-{i}",
            r.type,
            f"{r.name}-{i}",
            True,
            None,
            None,
            dict(r.props),
        )
        for i, r in enumerate(made)
    ]


@pytest.mark.parametrize("source", ["renders", "synthetic"])
def test_every_value_of_every_resource_may_be_unknown(analyzer: Analyzer, source: str) -> None:
    resources = shapes() if source == "renders" else synthetic()
    assert len(resources) >= (50 if source == "renders" else 8), "every resource shape of the four envs"
    cases = [(reg, path) for reg in resources for path in (None, *paths(reg.inputs))]
    assert len(cases) > (2000 if source == "renders" else 300)

    def judge(case: tuple[Registration, Path_ | None]) -> set[tuple[str, str]]:
        reg, path = case
        return _analyze(analyzer, reg, reg.inputs if path is None else with_unknown(reg.inputs, path))

    # the pack serves four requests at once (pulumi_policy's thread pool), as the engine sends them
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(judge, cases))
    before: dict[str, set[tuple[str, str]]] = {}
    for (reg, path), after in zip(cases, results, strict=True):
        assert not any(CRASH in m or "can't run policy" in m for _, m in after), (reg.urn, path, after)
        if path is None:
            before[reg.urn] = after
        elif path not in IDENTITY:
            assert after <= before[reg.urn], (reg.urn, path, sorted(after - before[reg.urn]))


def test_violations_next_to_an_unknown_are_still_found(analyzer: Analyzer) -> None:
    """Skipping is per field: an unknown image hides nothing else about the pod."""
    # a pod without init containers: an init container's own (known) image is checked on its own
    [deployment] = [
        r
        for r in shapes()
        if r.type == "kubernetes:apps/v1:Deployment"
        and not r.inputs["spec"]["template"]["spec"].get("initContainers")
    ][:1]
    inputs = copy.deepcopy(deployment.inputs)
    container = inputs["spec"]["template"]["spec"]["containers"][0]
    container["image"] = WIRE_UNKNOWN
    container["securityContext"]["privileged"] = True
    container["resources"] = {"requests": {"cpu": WIRE_UNKNOWN, "memory": "1Gi"}}
    found = _analyze(analyzer, deployment, inputs)
    messages = " ".join(m for _, m in found)
    assert "containers[*].securityContext.privileged" in messages
    assert "containers[*].resources.limits.memory" in messages
    assert "resources.requests.cpu" not in messages and not any(p == "image-source" for p, _ in found)


@pytest.mark.parametrize("env", ENVS)
def test_the_stack_analysis_tolerates_unknowns_anywhere(analyzer: Analyzer, env: str) -> None:
    """AnalyzeStack gets every resource at once: a seeded sweep puts unknowns all over it."""
    from pulumi.runtime.proto import analyzer_pb2

    registrations = _rendered(env).registrations
    rng = random.Random(16)

    def stack_messages(inputs: dict[str, dict[str, Any]]) -> set[str]:
        request = analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(
                    type=r.type,
                    properties=_struct(inputs[r.urn]),
                    urn=r.urn,
                    name=r.name,
                    parent=r.parent or "",
                )
                for r in registrations
            ]
        )
        return {_same_container(d.message) for d in analyzer.stub.AnalyzeStack(request).diagnostics}

    before = stack_messages({r.urn: r.inputs for r in registrations})
    for _ in range(12):
        inputs = {}
        for r in registrations:
            candidates = [p for p in paths(r.inputs) if p not in IDENTITY]
            chosen = rng.sample(candidates, k=min(len(candidates), max(1, len(candidates) // 10)))
            value = copy.deepcopy(r.inputs)
            for path in sorted(chosen, key=len, reverse=True):
                set_unknown(value, path)
            inputs[r.urn] = value
        after = stack_messages(inputs)
        assert not any(CRASH in m or "can't run policy" in m for m in after), after
        assert after <= before, sorted(after - before)


def test_a_rule_that_raises_is_reported_not_an_rpc_error() -> None:
    """Defence in depth: a bug fails the resource at the policy's level, naming itself, and the
    preview goes on (an exception out of Analyze would abort it)."""
    import sys
    from types import SimpleNamespace

    sys.path.insert(0, str(ROOT / "policy"))
    from flow_policies.pack import Rule, _resource_policy

    def broken(resource: Any, config: Any) -> list[str]:
        raise KeyError("spec")

    policy = _resource_policy(Rule("boom", "A rule with a bug.", broken, {}))
    reported: list[str] = []
    args = SimpleNamespace(
        resource_type="kubernetes:core/v1:Pod",
        props={},
        urn="urn:p",
        name="p",
        opts=None,
        get_config=lambda: {},
    )
    policy.validate(args, lambda message, urn=None: reported.append(message))  # type: ignore[arg-type]
    assert reported == [
        "policy 'boom' could not judge urn:p: KeyError: 'spec';"
        " this is a bug in the flow-platform policy pack, please report it"
    ]
