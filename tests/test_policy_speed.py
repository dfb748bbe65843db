"""The pack's lazy reading of resource properties (``flow_policies.speed.LazyStruct``, issue 20) keeps
pulumi_policy's semantics: every field reads exactly as its eager conversion (MessageToDict, then
deserialize_properties, then the pack's own read into plain data) would have it, unknowns and
secrets included; a rule that reads a deep CRD field over gRPC still sees it; and the pack's
diagnostics on all four envs are those of the unpatched pulumi_policy path, with and without
unknowns. What laziness buys is shown too: unread subtrees (the CRDs' schemas) are never converted.
"""

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ENVS, ROOT, _rendered
from flow_platform_stacks.tooling.harness import Registration
from flow_platform_stacks.tooling.policy_check import Analyzer, Diagnostic, _struct, running_pack
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.rpc import UNKNOWN as WIRE_UNKNOWN

sys.path.insert(0, str(ROOT / "policy"))
from flow_policies import pack, speed
from flow_policies.core import UNKNOWN, UNKNOWN_SENTINELS
from flow_policies.speed import SPECIAL_SIG_KEY, LazyStruct
from pulumi_policy.deserialize import deserialize_properties

CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"


def eager(struct: struct_pb2.Struct) -> Any:
    """What the pack read before LazyStruct: pulumi_policy's own steps, then ``pack._raw``."""
    return pack._raw(speed.shallow_proxy(deserialize_properties(json_format.MessageToDict(struct))))


def typed(value: Any) -> Any:
    """``value`` with every type, and every mapping's key order, made part of equality."""
    if isinstance(value, LazyStruct):
        return ("mapping", [(k, typed(v)) for k, v in value.items()])
    if isinstance(value, dict):
        return ("mapping", [(k, typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    if value is UNKNOWN:
        return ("unknown",)
    if hasattr(value, "__dict__"):  # pulumi's assets and archives
        return (type(value).__name__, typed(dict(vars(value))))
    return (type(value).__name__, repr(value))


def converted(value: Any) -> int:
    """How many fields of the LazyStructs reachable through what was read have been converted."""
    if isinstance(value, LazyStruct):
        return len(value._read) + sum(converted(v) for v in value._read.values())
    if isinstance(value, list):
        return sum(converted(v) for v in value)
    return 0


def count(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(count(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(count(v) for v in value)
    return 1


def test_every_resource_of_every_env_reads_as_its_eager_conversion() -> None:
    import json

    unique: dict[str, Registration] = {}  # the envs share many resources (the CRDs among them)
    for env in ENVS:
        for reg in _rendered(env).registrations:
            unique.setdefault(json.dumps(reg.inputs, sort_keys=True), reg)
    assert sum(r.type == CRD for r in unique.values()) >= 2
    for reg in unique.values():
        struct = _struct(reg.inputs)
        wire = struct.SerializeToString(deterministic=True)
        assert typed(LazyStruct(struct)) == typed(eager(struct)), reg.urn
        assert struct.SerializeToString(deterministic=True) == wire, f"{reg.urn}: reading changed the Struct"


def _edge_cases() -> dict[str, Any]:
    sentinels = sorted(UNKNOWN_SENTINELS)
    return {
        "unknowns": sentinels,
        "unknown": WIRE_UNKNOWN,
        "nested": {"deep": {"deeper": [WIRE_UNKNOWN, {"x": WIRE_UNKNOWN}, [1, 2.5, True, None]]}},
        "secret": {SPECIAL_SIG_KEY: SECRET_SIG, "value": {"password": "hunter2", "later": WIRE_UNKNOWN}},
        "secretString": {SPECIAL_SIG_KEY: SECRET_SIG, "value": "s3cr3t"},
        "asset": {SPECIAL_SIG_KEY: ASSET_SIG, "text": "hello"},
        "listOfSecrets": [{SPECIAL_SIG_KEY: SECRET_SIG, "value": [1, "a"]}],
        "empty": {},
        "emptyList": [],
        "null": None,
        "numbers": [0, 1, -3, 2.5, 1e300, 10**15],
        "bools": [True, False],
        "odd keys": {"": 1, "a.b/c": 2, "ü": 3, "0": 4},
    }


def test_edge_values_read_as_their_eager_conversion() -> None:
    struct = _struct(_edge_cases())
    lazy = LazyStruct(struct)
    expected = eager(struct)
    for key in expected:  # field by field first (each converted on its own) ...
        assert typed(lazy[key]) == typed(expected[key]), key
    assert typed(lazy) == typed(expected)  # ... then listed whole
    assert lazy["unknown"] is UNKNOWN and lazy["nested"]["deep"]["deeper"][0] is UNKNOWN
    assert lazy["secret"] == {"password": "hunter2", "later": UNKNOWN}
    assert lazy["numbers"] == [0.0, 1.0, -3.0, 2.5, 1e300, 1e15]


def test_a_lazy_struct_behaves_as_a_read_only_dict() -> None:
    data = {"b": {"x": [1, {"y": "z"}]}, "a": "text", "c": None}
    struct = _struct(data)
    wire = struct.SerializeToString(deterministic=True)
    lazy = LazyStruct(struct)
    plain = eager(struct)
    assert len(lazy) == 3 and "a" in lazy and "missing" not in lazy and 1 not in lazy  # type: ignore[comparison-overlap]
    assert lazy.get("missing") is None and lazy.get("missing", 7) == 7 and lazy.get(1) is None  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        lazy["missing"]
    assert list(lazy) == list(plain) and list(lazy.keys()) == list(plain.keys())
    assert lazy == plain and plain == lazy and dict(lazy) == plain and {**lazy} == plain
    assert lazy != {"a": "text"} and lazy["b"] == {"x": [1.0, {"y": "z"}]}
    assert repr(lazy) == repr(plain) and str(lazy["b"]) == str(plain["b"])
    assert lazy["c"] is None and "c" in lazy
    with pytest.raises(TypeError):
        lazy["a"] = "changed"  # type: ignore[index]
    with pytest.raises(TypeError):
        hash(lazy)
    assert struct.SerializeToString(deterministic=True) == wire  # reading absent keys inserted none


def _prd_crd() -> Registration:
    crd: Registration = next(r for r in _rendered("prd").registrations if r.type == CRD)
    return crd


def _deep_path(inputs: dict[str, Any]) -> tuple[list[str | int], Any]:
    """The longest path from the CRD's root to a leaf (deep inside its openAPIV3Schema)."""
    best: tuple[list[str | int], Any] = ([], None)

    def walk(value: Any, at: list[str | int]) -> None:
        nonlocal best
        children = (
            value.items()
            if isinstance(value, dict)
            else enumerate(value)
            if isinstance(value, list)
            else None
        )
        if children is None:
            if len(at) > len(best[0]):
                best = (at, value)
            return
        for key, child in children:
            walk(child, [*at, key])

    walk(inputs, [])
    return best


def test_unread_subtrees_are_never_converted_and_a_deep_field_still_reads() -> None:
    crd = _prd_crd()
    total = count(crd.inputs)
    assert total > 2000, "a Flink CRD carries its whole openAPIV3Schema"
    path, leaf = _deep_path(crd.inputs)
    assert "openAPIV3Schema" in path and len(path) > 10
    lazy = LazyStruct(_struct(crd.inputs))
    assert lazy["metadata"]["name"] == crd.inputs["metadata"]["name"]
    assert converted(lazy) < 10, "only what was read is converted"
    node: Any = lazy
    for part in path:
        node = node[part]
    assert node == leaf
    # one field per step of the path (plus, where a step is a list, that list's elements unread)
    assert converted(lazy) <= len(path) + 1, "reading one deep field converts its path, not the schema"


# Packs started as the Pulumi CLI starts them (their own process, the Analyzer protocol over gRPC)
EAGER_PACK = """
import sys
sys.path.insert(0, {policy!r})
from flow_policies.pack import DEFAULT_LEVEL, policies
from pulumi_policy import PolicyPack

# pulumi_policy's own conversions, unpatched: the reference the lazy reading must match
PolicyPack(name="flow-platform-guardrails", enforcement_level=DEFAULT_LEVEL, policies=policies())
"""

PROBE_PACK = """
import json, sys
sys.path.insert(0, {policy!r})
from flow_policies import speed
from flow_policies.core import UNKNOWN
from flow_policies.pack import to_resource
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy

speed.install()
PATH = json.loads({path!r})


def read(resource):
    node = resource.props
    for part in PATH:
        node = node[part]
    return "<unknown>" if node is UNKNOWN else json.dumps(node)


def deep(args, report_violation):
    if args.resource_type.endswith(":CustomResourceDefinition"):
        report_violation("resource " + read(to_resource(args)))


def deep_stack(args, report_violation):
    for r in args.resources:
        if r.resource_type.endswith(":CustomResourceDefinition"):
            report_violation("stack " + read(to_resource(r)), r.urn)


PolicyPack(
    name="probe",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        ResourceValidationPolicy("deep-field", "Reads one deep CRD field.", deep),
        StackValidationPolicy("deep-field-stack", "Reads one deep CRD field of the stack.", deep_stack),
    ],
)
"""


def _pack(directory: Path, source: str) -> Path:
    directory.mkdir()
    shutil.copy(ROOT / "policy" / "PulumiPolicy.yaml", directory / "PulumiPolicy.yaml")
    (directory / "__main__.py").write_text(source)
    return directory


def test_a_policy_reading_a_deep_crd_field_sees_it_over_grpc(tmp_path: Path) -> None:
    import json

    crd = _prd_crd()
    path, leaf = _deep_path(crd.inputs)
    source = PROBE_PACK.format(policy=str(ROOT / "policy"), path=json.dumps(path))
    unknown_inputs = json.loads(json.dumps(crd.inputs))
    node = unknown_inputs
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = WIRE_UNKNOWN
    with running_pack(_pack(tmp_path / "probe", source)) as probe:
        known = probe.analyze([crd])
        unknown = probe.analyze_properties([crd], {crd.urn: _struct(unknown_inputs)})
    value = json.dumps(float(leaf) if isinstance(leaf, int) and not isinstance(leaf, bool) else leaf)
    assert sorted(d.message for d in known) == [f"resource {value}", f"stack {value}"]
    assert sorted(d.message for d in unknown) == ["resource <unknown>", "stack <unknown>"]


def _with_unknowns(registrations: list[Registration], every: int) -> dict[str, struct_pb2.Struct]:
    """Wire properties with every ``every``-th value (a leaf, a list or an object, at any depth,
    identity fields excepted) unknown."""
    import json

    seen = 0

    def sprinkle(value: Any, depth: int) -> Any:
        nonlocal seen
        if depth > 1:
            seen += 1
            if seen % every == 0:
                return WIRE_UNKNOWN
        if isinstance(value, dict):
            return {
                k: v if depth == 0 and k == "metadata" else sprinkle(v, depth + 1) for k, v in value.items()
            }
        if isinstance(value, list):
            return [sprinkle(v, depth + 1) for v in value]
        return value

    return {r.urn: _struct(sprinkle(json.loads(json.dumps(r.inputs)), 0)) for r in registrations}


def _cases() -> Iterator[tuple[str, list[Registration], dict[str, Any], dict[str, struct_pb2.Struct]]]:
    """Each env without exceptions (the most findings); prd also with its config (the exceptions
    path) and with unknowns."""
    import json

    for env in ENVS:
        registrations = _rendered(env).registrations
        wire = {r.urn: _struct(r.inputs) for r in registrations}
        yield f"{env} without exceptions", registrations, {}, wire
    registrations = _rendered("prd").registrations
    wire = {r.urn: _struct(r.inputs) for r in registrations}
    config = json.loads((ROOT / "policy" / "config" / "prd.json").read_text())
    yield "prd with its config", registrations, config, wire
    yield "prd with unknowns", registrations, {}, _with_unknowns(registrations, 7)


def _run(
    analyzer: Analyzer, registrations: list[Registration], config: dict[str, Any], wire: Any
) -> list[Diagnostic]:
    analyzer.configure(config)
    return analyzer.analyze_properties(registrations, wire)


def test_diagnostics_match_unpatched_pulumi_policy_on_every_env(tmp_path: Path) -> None:
    """The real pack (lazy) against the same policies on pulumi_policy's own conversions: identical
    diagnostics, in order, for the four envs, with exceptions and with unknowns."""
    reference = _pack(tmp_path / "eager", EAGER_PACK.format(policy=str(ROOT / "policy")))
    with running_pack(ROOT / "policy") as lazy, running_pack(reference) as eager_pack:
        for name, registrations, config, wire in _cases():
            got = _run(lazy, registrations, config, wire)
            want = _run(eager_pack, registrations, config, wire)
            assert got == want, name
            assert want or name.endswith("with its config"), f"{name}: no diagnostics to compare"
