"""Run the real stack program under Pulumi's mock runtime and record every registration.

The recording monitor sees the whole ``RegisterResource`` request, so resource options the
engine would receive (protect, retain_on_delete, depends_on, ignore_changes, aliases) are
recorded as well as inputs. Values only the cloud can compute, and secrets, become marked
placeholders: ``<computed:NAME.FIELD>`` and ``[secret]``; never real-looking values. A Secret
whose type fixes the format of a value gets the smallest valid value of that format instead
(``{"auths":{}}`` for a docker config), and a Secret's ``data`` holds ``base64("[secret]")``,
so the render is still an object the API server admits.
"""

import asyncio
import base64
import contextlib
import json
import os
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import Stack
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from .. import PROJECT
from ..errors import SECRET_MASK
from ..stackfile import load_yaml_file, stack_file_config
from . import source_positions

COMPUTED = "<computed:{name}.{field}>"
_SIG = rpc._special_sig_key
_SECRET_SIG = rpc._special_secret_sig
_RESOURCE_SIG = rpc._special_resource_sig
_OUTPUT_SIG = rpc._special_output_value_sig
_ASSET_SIGS = {rpc._special_asset_sig: "[asset]", rpc._special_archive_sig: "[archive]"}


def computed(name: str, field_name: str) -> str:
    return COMPUTED.format(name=name, field=field_name)


@dataclass
class Registration:
    """One resource as the engine would have received it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    provider: str | None
    inputs: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "custom": self.custom,
            "parent": self.parent,
            "provider": self.provider,
            "inputs": self.inputs,
            "options": self.options,
        }


def _plain(value: Any) -> Any:
    """Wire value -> plain JSON data with placeholders for secrets, unknowns and references."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET_SIG:
            return _mask(_plain(value.get("value")))
        if sig == _RESOURCE_SIG:
            return value.get("urn")
        if sig == _OUTPUT_SIG:
            return SECRET_MASK if value.get("secret") else _plain(value.get("value", "[computed]"))
        if sig in _ASSET_SIGS:
            return _ASSET_SIGS[sig]
        # null inputs are absent inputs, as the SDK's own deserializer treats them
        return {k: _plain(v) for k, v in sorted(value.items()) if v is not None}
    if value == rpc.UNKNOWN:
        return "[computed]"
    return value


def _mask(value: Any) -> Any:
    """Hide a secret's values but keep its shape (a Secret's keys are not secret; its values are)."""
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return SECRET_MASK


# Secret types whose values the API server parses (k8s.io/kubernetes v1.32
# pkg/apis/core/validation ValidateSecret): type -> (key, an empty but valid value).
TYPED_SECRET_PLACEHOLDERS = {
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson", '{"auths":{}}'),
    "kubernetes.io/dockercfg": (".dockercfg", "{}"),
}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def typed_secret_placeholders(inputs: dict[str, Any]) -> dict[str, Any]:
    """Make a Secret's masked values valid for the API server: ``data`` holds base64 (the mask
    becomes ``base64("[secret]")``), and a typed Secret's parsed key gets a valid empty value."""
    out = dict(inputs)
    if isinstance(out.get("data"), dict):
        out["data"] = {k: _b64(v) if v == SECRET_MASK else v for k, v in out["data"].items()}
    typed = TYPED_SECRET_PLACEHOLDERS.get(str(inputs.get("type")))
    if typed is None:
        return out
    key, placeholder = typed
    for field_name, value, mask in (
        ("stringData", placeholder, SECRET_MASK),
        ("data", _b64(placeholder), _b64(SECRET_MASK)),
    ):
        values = out.get(field_name)
        if isinstance(values, dict) and values.get(key) == mask:
            out[field_name] = {**values, key: value}
    return out


def _urn_of_ref(ref: str) -> str | None:
    """Provider references are ``<urn>::<id>``; keep the URN (ids are computed)."""
    return ref.rsplit("::", 1)[0] if ref else None


class FlowMocks(pulumi_mocks.Mocks):
    """Echo inputs back as state, filling what the cloud or API server would compute.

    ``stack_outputs`` plays the stacks a program references (``pulumi.StackReference``): stack
    name -> its outputs. A stack not listed has no outputs.

    Lookups (invokes) the stack makes get answers shaped like the provider's: a subnet's
    Availability Zone is ``subnet_zones[id]`` or else derived from its id (three zones of the
    provider's region). Every answer that is not a fact is listed in :attr:`stand_ins`, which the
    render prints, so nobody mistakes it for the account's real layout.
    """

    def __init__(
        self,
        stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
        subnet_zones: Mapping[str, str] | None = None,
        eks_clusters: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.stack_outputs = dict(stack_outputs or {})
        self.subnet_zones = dict(subnet_zones or {})
        self.eks_clusters = {name: dict(facts) for name, facts in (eks_clusters or {}).items()}
        self.aws_region = "us-east-1"
        self.stand_ins: list[str] = []

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == "pulumi:pulumi:StackReference":
            name = str(args.inputs.get("name", args.name))
            return name, {
                "name": name,
                "outputs": dict(self.stack_outputs.get(name, {})),
                "secretOutputNames": [],
            }
        id_, changes = self.state_changes(args.typ, args.name, args.inputs)
        return id_, {**args.inputs, **changes}

    def state_changes(self, typ: str, name: str, inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The id, and the top-level keys of the state that differ from ``inputs`` (new or replaced
        values): what the provider computes. Reads only the keys it changes, so the recording
        monitor can answer a large resource without converting all of it (see ``RecordingMonitor``)."""
        changes: dict[str, Any] = {}
        if typ.startswith("kubernetes:"):
            metadata = dict(inputs.get("metadata") or {})
            metadata.setdefault("name", name)
            changes["metadata"] = metadata
        if typ == "kubernetes:core/v1:Service":
            spec = dict(inputs.get("spec") or {})
            spec.setdefault("clusterIP", computed(name, "spec.clusterIP"))
            changes["spec"] = spec
        if typ.startswith("aws:") and "arn" not in inputs:
            changes["arn"] = computed(name, "arn")
        if typ == "pulumi:providers:aws" and isinstance(inputs.get("region"), str):
            self.aws_region = inputs["region"]
        if typ == "aws:ecr/repository:Repository" and "repositoryUrl" not in inputs:
            changes["repositoryUrl"] = computed(name, "repositoryUrl")
        return computed(name, "id"), changes

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        # the second element is the list of check failures: None is not "no failures" to the SDK
        if args.token == "aws:ec2/getSubnet:getSubnet":
            return self._subnet(str(args.args.get("id", ""))), []
        if args.token == "aws:eks/getCluster:getCluster":
            return self._cluster(str(args.args.get("name", ""))), []
        raise NotImplementedError(
            f"the offline render has no answer for lookup {args.token}: add one to FlowMocks"
        )

    def _cluster(self, name: str) -> dict[str, Any]:
        """``aws.eks.getCluster``: ``eks_clusters[name]`` (``issuer``, ``endpoint``), else no
        identity and no endpoint, so nothing is compared offline (and the render says so)."""
        facts = self.eks_clusters.get(name)
        if facts is None:
            note = f"aws:eks/getCluster {name}: no issuer or endpoint offline (stand-in: nothing compared)"
            if note not in self.stand_ins:
                self.stand_ins.append(note)
            return {"name": name, "identities": []}
        return {
            "name": name,
            "endpoint": facts.get("endpoint"),
            "identities": [{"oidcs": [{"issuer": facts.get("issuer")}]}],
        }

    def _subnet(self, subnet_id: str) -> dict[str, Any]:
        """``aws.ec2.getSubnet`` by id: the fields the stack reads, zone from ``subnet_zones``."""
        zone = self.subnet_zones.get(subnet_id)
        if zone is None:
            digits = subnet_id.removeprefix("subnet-")
            index = int(digits, 16) % 3 if digits and all(c in "0123456789abcdef" for c in digits) else 0
            zone = f"{self.aws_region}{'abc'[index]}"
            note = f"aws:ec2/getSubnet {subnet_id}: availabilityZone {zone} (stand-in, derived from the id)"
            if note not in self.stand_ins:
                self.stand_ins.append(note)
        return {"id": subnet_id, "availabilityZone": zone, "state": "available"}


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that keeps the full RegisterResource request of every resource.

    ``on_register`` is called with each registration as it arrives, as the engine hands each
    resource to the analyzers during a deployment (``flow-platform check`` streams them to the
    policy pack); it runs on the SDK's RPC threads and must be quick and thread-safe.
    """

    def __init__(
        self, mocks: pulumi_mocks.Mocks, on_register: Callable[[Registration], None] | None = None
    ) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self.on_register = on_register
        self.outputs: dict[str, dict[str, Any]] = {}
        self._unconverted: dict[str, struct_pb2.Struct] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine forms them: the root stack is not part of a child's type chain."""
        if parent.split("::")[2:3] == ["pulumi:pulumi:Stack"]:
            parent = ""
        return str(super().make_urn(parent, type_, name))

    def RegisterResourceOutputs(self, request: Any) -> Any:
        self.outputs[request.urn] = _plain(json_format.MessageToDict(request.outputs))
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]

    def stack_outputs(self) -> dict[str, Any]:
        """What ``pulumi.export`` published: the root stack's registered outputs."""
        for urn, outputs in self.outputs.items():
            if urn.split("::")[2:3] == ["pulumi:pulumi:Stack"]:
                return outputs
        return {}

    def RegisterResource(self, request: Any) -> Any:
        plain = is_plain_data(request.object)
        if plain and _answers_plain(self.mocks, request):
            response = self._register_plain(request)
        else:
            response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            registration = _registration(response.urn, request, plain)
            self.registrations.append(registration)
            if self.on_register is not None:
                self.on_register(registration)
        return response

    def _register_plain(self, request: Any) -> Any:
        """Pulumi's ``MockMonitor.RegisterResource`` for inputs that are plain data, without its
        round trip: it converts every input to Python (``deserialize_properties``) and the whole
        state back (``serialize_properties``), a third of a stack's evaluation when it holds CRDs.
        Plain data survives that round trip unchanged, so the answer is the request's own object
        with the keys the mocks change (``FlowMocks.state_changes``) replaced; byte-identical to
        the SDK's (tests/test_mock_monitor.py, every resource of every env). The registered state
        (``get_registered_resources``, ``getResource``) is converted when first asked for."""
        urn = self.make_urn(request.parent, request.type, request.name)
        assert isinstance(self.mocks, FlowMocks)  # _answers_plain
        id_, changes = self.mocks.state_changes(request.type, request.name, _StructInputs(request.object))
        state = struct_pb2.Struct()
        state.CopyFrom(request.object)
        if changes:
            _ensure_event_loop()  # type: ignore[no-untyped-call]
            serialized = _sync_await(rpc.serialize_properties(changes, {}))
            for key in changes:
                if key in serialized.fields:
                    state.fields[key].CopyFrom(serialized.fields[key])
                else:  # a None value: the SDK drops the key
                    del state.fields[key]
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, id_, {})
        self._unconverted[urn] = state
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=state)

    def _convert_states(self) -> None:
        while self._unconverted:
            urn, state = self._unconverted.popitem()
            registered = self.resources[urn]
            self.resources[urn] = registered._replace(state=rpc.deserialize_properties(state))

    def get_registered_resources(self) -> dict[str, Any]:
        self._convert_states()
        return super().get_registered_resources()

    def Invoke(self, request: Any) -> Any:
        self._convert_states()
        return super().Invoke(request)  # type: ignore[no-untyped-call]

    def ExistsResource(self, request: Any) -> Any:
        self._convert_states()
        return super().ExistsResource(request)  # type: ignore[no-untyped-call]


# Markers of what is not plain data in a serialized Struct: the special-value key (secrets,
# resource references, output values, assets), the unknown sentinel, and a null Value (field 1,
# varint 0; the SDK drops null struct members on the round trip). A false match only means the
# SDK's own path is taken.
_NOT_PLAIN = (_SIG.encode(), rpc.UNKNOWN.encode(), b"\x08\x00")


def is_plain_data(struct: struct_pb2.Struct) -> bool:
    """Whether ``struct`` holds only plain data (no secrets, unknowns, references, assets, nulls)."""
    raw = struct.SerializeToString()
    return not any(marker in raw for marker in _NOT_PLAIN)


def _answers_plain(mocks: pulumi_mocks.Mocks, request: Any) -> bool:
    """Whether the recording monitor may answer a plain-data ``request`` without the SDK's round trip."""
    return type(mocks).new_resource is FlowMocks.new_resource and not request.type.startswith(
        "pulumi:pulumi:"
    )


def plain_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """``_plain(MessageToDict(struct))`` for a plain-data Struct (:func:`is_plain_data`), 2x faster:
    numbers that are whole become ints, keys sorted (tests/test_mock_monitor.py compares both)."""
    return {key: _plain_value(value) for key, value in sorted(struct.fields.items())}


def _plain_value(value: Any) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() else number
    if kind == "struct_value":
        return plain_struct(value.struct_value)
    if kind == "list_value":
        return [_plain_value(v) for v in value.list_value.values]
    return value.bool_value


class _StructInputs(Mapping[str, Any]):
    """A plain-data Struct's top-level members, each converted as ``deserialize_properties`` would,
    when read."""

    def __init__(self, struct: struct_pb2.Struct) -> None:
        self._struct = struct

    def __getitem__(self, key: str) -> Any:
        if key not in self._struct.fields:
            raise KeyError(key)
        return rpc.deserialize_property(self._struct[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._struct.fields)

    def __len__(self) -> int:
        return len(self._struct.fields)


def _registration(urn: str, request: Any, plain: bool = False) -> Registration:
    """``plain``: the request's inputs are plain data (:func:`is_plain_data`)."""
    inputs = plain_struct(request.object) if plain else _plain(json_format.MessageToDict(request.object))
    if request.type == "kubernetes:core/v1:Secret":
        inputs = typed_secret_placeholders(inputs)
    options: dict[str, Any] = {
        "protect": bool(request.protect) if request.HasField("protect") else False,
        "retain_on_delete": bool(request.retainOnDelete) if request.HasField("retainOnDelete") else False,
        "depends_on": sorted(request.dependencies),
        "property_dependencies": {
            k: sorted(v.urns) for k, v in sorted(request.propertyDependencies.items()) if v.urns
        },
        "ignore_changes": sorted(request.ignoreChanges),
        "replace_on_changes": sorted(request.replaceOnChanges),
        "delete_before_replace": bool(request.deleteBeforeReplace),
        "additional_secret_outputs": sorted(request.additionalSecretOutputs),
        "aliases": sorted(json_format.MessageToJson(a, sort_keys=True, indent=None) for a in request.aliases)
        + sorted(request.aliasURNs),
    }
    if request.HasField("customTimeouts"):
        timeouts = request.customTimeouts
        options["custom_timeouts"] = {
            k: v for k, v in (("create", timeouts.create), ("update", timeouts.update)) if v
        }
    if request.deletedWith:
        options["deleted_with"] = request.deletedWith
    if request.importId:
        options["import"] = request.importId
    if request.version:
        options["version"] = request.version
    return Registration(
        urn=urn,
        type=request.type,
        name=request.name,
        custom=bool(request.custom),
        parent=request.parent or None,
        provider=_urn_of_ref(request.provider),
        inputs=inputs,
        options=options,
    )


# --- stack files ---------------------------------------------------------------------------


def _strip_secure(value: Any) -> tuple[Any, bool]:
    """Replace ``{secure: ...}`` ciphertexts (undecryptable offline) with a marked placeholder."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_MASK, True
        secret = False
        out = {}
        for k, v in value.items():
            out[k], s = _strip_secure(v)
            secret = secret or s
        return out, secret
    if isinstance(value, list):
        items = [_strip_secure(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def _config_text(value: Any) -> str:
    """Encode a stack-file value the way the Pulumi CLI hands it to the program."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(_jsonable(value), sort_keys=True)
    return str(value)


def _jsonable(value: Any) -> Any:
    """YAML's extra types (dates, binary, sets, non-string keys) as the text the CLI would pass."""
    if isinstance(value, dict):
        return {k if isinstance(k, str) else _config_text(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def project_defaults(project_file: Path) -> dict[str, Any]:
    """Defaults declared in Pulumi.yaml's ``config:`` block, as the CLI applies them."""
    doc = load_yaml_file(project_file, "the project file") or {}
    config = doc.get("config") if isinstance(doc, dict) else None
    defaults: dict[str, Any] = {}
    for key, decl in (config if isinstance(config, dict) else {}).items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        if isinstance(decl, dict) and "default" in decl:
            defaults[full] = decl["default"]
    return defaults


def read_stack_file(stack_file: Path, project_file: Path | None = None) -> tuple[dict[str, str], list[str]]:
    """A stack file's config as the engine passes it: full keys -> text, plus the secret keys."""
    values: dict[str, Any] = project_defaults(project_file) if project_file else {}
    for key, value in stack_file_config(stack_file).items():
        values[key if ":" in key else f"{PROJECT}:{key}"] = value
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in sorted(values.items()):
        plain, secret = _strip_secure(value)
        config[key] = _config_text(plain)
        if secret:
            secret_keys.append(key)
    return config, secret_keys


@contextlib.contextmanager
def _isolated_environment() -> Iterator[None]:
    """Hide a caller's PULUMI_CONFIG* variables so only the given config is seen."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("PULUMI_CONFIG")}
    for key in saved:
        del os.environ[key]
    try:
        yield
    finally:
        os.environ.update(saved)


def _open_event_loop() -> None:
    """Pulumi's runtime runs on the thread's current loop; replace it if a caller closed it."""
    policy = asyncio.get_event_loop_policy()
    try:
        loop: asyncio.AbstractEventLoop | None = policy.get_event_loop()
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        policy.set_event_loop(policy.new_event_loop())


def run_program(
    stack: str,
    config: Mapping[str, str],
    secret_keys: list[str],
    program: Callable[[], Awaitable[None] | None] | None = None,
    monitor: RecordingMonitor | None = None,
    project_dir: Path | None = None,
) -> list[Registration]:
    """Run ``program`` (default: the stack program) under mocks; return what it registered.

    Raises :class:`~flow_platform_stacks.errors.ConfigError` unchanged, before registration; pass
    your own ``monitor`` to see what (if anything) was registered when it raises.
    """
    if program is None:

        def program() -> Awaitable[None]:
            # Imported here, after set_mocks, as Pulumi's testing guide asks.
            from ..loader import load
            from ..program import build

            return build(load(stack), stack, project_dir)

    _open_event_loop()
    monitor = monitor or RecordingMonitor(FlowMocks())
    mocks = monitor.mocks
    with _isolated_environment(), source_positions.installed():
        settings.ROOT.set(None)
        pulumi.runtime.set_all_config(dict(config), list(secret_keys))
        pulumi_mocks.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
        # set_mocks finishes its root stack at once, so exports would be lost; run the program in
        # a fresh Stack that registers its outputs when the program returns, as `pulumi up` does.
        settings.ROOT.set(None)
        pulumi.runtime.test(lambda: Stack(program))()  # type: ignore[no-untyped-call]
    return sorted(monitor.registrations, key=lambda r: r.urn)
