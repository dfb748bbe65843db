"""Components as another project imports them: required keys, checked values, chained Outputs."""

import importlib
from typing import Any

import pulumi
import pytest
from component_args import MINIMAL
from flow_platform.aws import EfsSharedVolume
from flow_platform.flink import FlinkCluster
from flow_platform.hyperflow import InClusterNfsServer
from flow_platform.k8s import NamespaceGuardrails
from flow_platform.partek import FlexLMServer, FlowHeadnode
from flow_platform.validation import ArgsError, ArgsSpec
from flow_platform_stacks.tooling.harness import Registration, run_program


def _spec(component: type[pulumi.ComponentResource]) -> ArgsSpec:
    spec = importlib.import_module(component.__module__).ARGS
    assert isinstance(spec, ArgsSpec)
    return spec


def _run(program: Any) -> list[Registration]:
    return run_program("lib", {}, [], program=program)


@pytest.mark.parametrize("component", list(MINIMAL), ids=lambda c: c.__name__)
def test_every_key_of_every_args_type_has_a_check(component: type[pulumi.ComponentResource]) -> None:
    spec = _spec(component)
    assert spec.name == component.__name__
    missing = sorted(set(spec.typed_dict.__annotations__) - set(spec.checks))
    assert not missing, (
        f"add a check (flow_platform.validation) for {missing} to ARGS in {component.__module__}"
    )
    assert set(spec.checks) == set(spec.typed_dict.__annotations__), "ARGS checks a key the TypedDict lacks"


@pytest.mark.parametrize("component", list(MINIMAL), ids=lambda c: c.__name__)
def test_each_missing_required_key_names_the_component_and_the_key(
    component: type[pulumi.ComponentResource],
) -> None:
    minimal = MINIMAL[component]
    spec = _spec(component)
    assert set(minimal) == spec.required_keys, "the fixture holds exactly the required keys"
    for key in sorted(spec.required_keys):
        args = {k: v for k, v in minimal.items() if k != key}
        # outside any Pulumi runtime: the check runs before the component registers anything
        with pytest.raises(ArgsError) as raised:
            component("x", args)  # type: ignore[call-arg]
        message = str(raised.value)
        assert message.startswith(f"{component.__name__} 'x': args['{key}']: required key missing: expected ")
        assert raised.value.key == f"['{key}']"


@pytest.mark.parametrize(
    ("component", "key", "value", "allowed"),
    [
        (FlowHeadnode, "mode", "distrib", "one of 'single-node', 'distributed'"),
        (FlowHeadnode, "cpu", "-1", "CPU must be greater than 0"),
        (FlowHeadnode, "memory", "1e300", "out of range"),
        (FlowHeadnode, "image", "registry.partek.com/rtw:latest", "'latest' is not a version"),
        (FlowHeadnode, "image", "registry.partek.com/rtw", "has no tag or digest"),
        (FlowHeadnode, "ingress_host", "", "a fully qualified host name"),
        (FlowHeadnode, "namespace", "Team-Dev", "a DNS label"),
        (FlowHeadnode, "worker_cores", True, "a whole number"),
        (FlinkCluster, "flink_version", "v9_99", "one of 'v1_"),
        (NamespaceGuardrails, "quota", {"pods": "-2"}, "is negative"),
        (NamespaceGuardrails, "quota", {"pod": "2"}, "is not one of configmaps"),
        (NamespaceGuardrails, "namespace", "kube-system", "system namespace"),
        (EfsSharedVolume, "throughput_mode", "fast", "one of 'elastic', 'bursting', 'provisioned'"),
        (InClusterNfsServer, "node_cidrs", ["10.0.0.0/16", "10.0.0.1/16"], "host bits zero"),
    ],
)
def test_values_the_stack_config_rejects_are_rejected_by_the_component_too(
    component: type[pulumi.ComponentResource], key: str, value: Any, allowed: str
) -> None:
    with pytest.raises(ArgsError) as raised:
        component("x", {**MINIMAL[component], key: value})  # type: ignore[call-arg]
    assert str(raised.value).startswith(f"{component.__name__} 'x': args['{key}']")
    assert allowed in raised.value.problem


def test_the_path_names_list_indexes_and_nested_keys() -> None:
    cidrs = ["10.0.0.0/16", "10.0.0.1/16"]
    with pytest.raises(ArgsError, match=r"args\['node_cidrs'\]\[1\]: '10.0.0.1/16' is not a CIDR"):
        InClusterNfsServer("x", {**MINIMAL[InClusterNfsServer], "node_cidrs": cidrs})  # type: ignore[typeddict-item]
    size = {"replicas": 0, "cpu": 1.0, "memory": "2Gi"}
    with pytest.raises(
        ArgsError, match=r"args\['job_manager'\]\['replicas'\]: expected a whole number of at"
    ):
        FlinkCluster("x", {**MINIMAL[FlinkCluster], "job_manager": size})  # type: ignore[typeddict-item]


def test_an_unknown_key_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(ArgsError, match=r"args\['memroy'\]: unknown key; did you mean 'memory'\?"):
        FlowHeadnode("x", {**MINIMAL[FlowHeadnode], "memroy": "8Gi"})  # type: ignore[typeddict-unknown-key]


def test_enum_members_and_their_values_are_both_accepted() -> None:
    from flow_platform.partek import HeadnodeMode
    from flow_platform.partek.flow_headnode import ARGS

    checked = ARGS.check("x", {**MINIMAL[FlowHeadnode], "mode": HeadnodeMode.SINGLE_NODE})  # type: ignore[typeddict-item]
    assert checked["mode"] == "single-node" and type(checked["mode"]) is str


def test_namespace_name_output_chains_into_other_components() -> None:
    """NamespaceGuardrails.namespace_name passed on: names are built from the resolved value."""

    def program() -> None:
        guard = NamespaceGuardrails("team", {**MINIMAL[NamespaceGuardrails], "namespace": "team-prd"})  # type: ignore[typeddict-item]
        lic = NamespaceGuardrails("lic", {**MINIMAL[NamespaceGuardrails], "namespace": "lic-prd"})  # type: ignore[typeddict-item]
        EfsSharedVolume("home", {**MINIMAL[EfsSharedVolume], "namespace": guard.namespace_name})  # type: ignore[typeddict-item]
        server = FlexLMServer(
            "flexlm",
            {
                **MINIMAL[FlexLMServer],
                "namespace": lic.namespace_name,
                "client_namespace": guard.namespace_name,
            },  # type: ignore[typeddict-item]
        )
        InClusterNfsServer("nfs", {**MINIMAL[InClusterNfsServer], "client_namespace": guard.namespace_name})  # type: ignore[typeddict-item]
        del server

    registrations = _run(program)
    volumes = sorted(
        r.inputs["metadata"]["name"] for r in registrations if r.type == "kubernetes:core/v1:PersistentVolume"
    )
    assert volumes == ["team-prd-flow-home", "team-prd-work-dir"]
    claims = [
        r
        for r in registrations
        if r.type == "kubernetes:core/v1:PersistentVolumeClaim" and r.name == "home-claim"
    ]
    assert claims[0].inputs["metadata"]["namespace"] == "team-prd"
    for registration in registrations:
        assert "Output" not in str(registration.inputs), registration.name


def test_license_address_follows_a_chained_namespace() -> None:
    seen: list[str] = []

    def program() -> None:
        lic = NamespaceGuardrails("lic", {**MINIMAL[NamespaceGuardrails], "namespace": "lic-prd"})  # type: ignore[typeddict-item]
        server = FlexLMServer("flexlm", {**MINIMAL[FlexLMServer], "namespace": lic.namespace_name})  # type: ignore[typeddict-item]
        server.license_address.apply(seen.append)

    _run(program)
    assert seen == ["27000@flexlmserver.lic-prd.svc"]


def test_a_bad_value_inside_an_output_fails_when_it_resolves() -> None:
    def program() -> None:
        bad = pulumi.Output.from_input("Team_Prd")
        EfsSharedVolume("home", {**MINIMAL[EfsSharedVolume], "namespace": bad})  # type: ignore[typeddict-item]

    with pytest.raises(
        Exception, match=r"EfsSharedVolume 'home': args\['namespace'\]: 'Team_Prd' is not a DNS label"
    ):
        _run(program)


@pytest.mark.parametrize(
    ("component", "extra", "message"),
    [
        (FlowHeadnode, {"memory_limit": "4Gi"}, r"args\['memory_limit'\]: 4Gi is below memory \(8Gi\)"),
        (
            NamespaceGuardrails,
            {"default_limit": {"memory": "64Mi"}},
            r"args\['default_limit'\]: memory 64Mi is below default_request.memory \(128Mi\)",
        ),
        (
            NamespaceGuardrails,
            {"max_limit": {"cpu": "50m", "memory": "512Mi"}},
            r"args\['max_limit'\]: cpu 50m is below default_request.cpu \(100m\)",
        ),
    ],
)
def test_limits_below_their_requests_are_refused(
    component: type[pulumi.ComponentResource], extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(ArgsError, match=message):
        component("x", {**MINIMAL[component], **extra})  # type: ignore[call-arg]
