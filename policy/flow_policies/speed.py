"""Convert each request once, not once per policy, and only the fields a rule reads.

pulumi_policy 1.x (``policy.py``, ``_PolicyAnalyzerServicer.Analyze``) converts the same
``request.properties`` for every policy in turn: ``json_format.MessageToDict``, then
``deserialize_properties``, then ``unknown_checking_proxy``, then our own read into plain data. With
twenty-odd policies that conversion is most of the pack's time. :func:`install` memoizes each step on
the identity of its input, per server thread (a request is handled on one thread; an entry holds its
input, so a new request can never share its identity). Every step builds new objects from
its input and nothing downstream mutates them (analysis only reads), so sharing them is safe. A
pulumi_policy without these names is left alone.

Inside ``Analyze`` and ``AnalyzeStack`` a resource's properties become a :class:`LazyStruct`
instead: a read-only mapping over the protobuf ``Struct`` that converts a field when a rule first
reads it, to exactly what the three steps and :func:`pack._raw` would have made of it (unknowns as
``UNKNOWN``, secrets unwrapped, assets as pulumi assets). Subtrees no rule reads, above all the
CRDs' ``openAPIV3Schema`` (tens of thousands of fields), are never converted.
"""

import math
import threading
from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, ValuesView
from typing import Any

from .core import UNKNOWN, UNKNOWN_SENTINELS

_local = threading.local()


# entries per thread and step; Analyze and AnalyzeStack start and end with empty caches, so this only
# bounds what conversions outside them (Configure) keep alive
CAPACITY = 1 << 16
# pulumi's signature key for secrets, assets and archives inside a map (pulumi_policy.deserialize)
SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d"


def _cache(name: str) -> dict[int, tuple[Any, Any]]:
    caches: dict[str, dict[int, tuple[Any, Any]]] | None = getattr(_local, "caches", None)
    if caches is None:
        caches = _local.caches = {}
    return caches.setdefault(name, {})


def _memo(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def memoized(value: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:  # remediation's secret-preserving variant, options: not memoized
            return function(value, *args, **kwargs)
        if type(value) is LazyStruct:  # deserialized (and unknown-checked) field by field
            return value
        return memo_by_identity(name, value, lambda: function(value))

    memoized.__wrapped__ = function  # type: ignore[attr-defined]
    return memoized


class _JsonFormat:
    """``google.protobuf.json_format`` with ``MessageToDict`` memoized (everything else as is); a
    ``Struct`` converted while analyzing becomes a :class:`LazyStruct`."""

    def __init__(self, module: Any) -> None:
        from google.protobuf import struct_pb2

        self._module = module
        self._struct = struct_pb2.Struct
        eager = _memo("message", module.MessageToDict)

        def message_to_dict(message: Any, *args: Any, **kwargs: Any) -> Any:
            if not (args or kwargs) and getattr(_local, "analyzing", False) and type(message) is self._struct:
                return memo_by_identity("lazy", message, lambda: LazyStruct(message))
            return eager(message, *args, **kwargs)

        message_to_dict.__wrapped__ = module.MessageToDict  # type: ignore[attr-defined]
        self.MessageToDict = message_to_dict

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def _analyzing(method: Callable[..., Any]) -> Callable[..., Any]:
    """The servicer's ``method`` with this thread's conversions lazy while it runs."""

    def analyze(self: Any, request: Any, context: Any) -> Any:
        _local.caches = {}  # an entry can only serve the request it was made for
        _local.analyzing = True
        try:
            return method(self, request, context)
        finally:
            _local.analyzing = False
            _local.caches = {}

    analyze.__wrapped__ = method  # type: ignore[attr-defined]
    return analyze


def install() -> bool:
    """Memoize pulumi_policy's per-policy conversions; False when its layout is not the known one."""
    try:
        import pulumi_policy.policy
    except ImportError:
        return False
    policy: Any = pulumi_policy.policy
    names = ("json_format", "deserialize_properties", "unknown_checking_proxy", "_PolicyAnalyzerServicer")
    if not all(hasattr(policy, n) for n in names) or isinstance(policy.json_format, _JsonFormat):
        return isinstance(getattr(policy, "json_format", None), _JsonFormat)
    servicer = policy._PolicyAnalyzerServicer
    if not all(callable(getattr(servicer, m, None)) for m in ("Analyze", "AnalyzeStack")):
        return False
    policy.json_format = _JsonFormat(policy.json_format)
    policy.deserialize_properties = _memo("deserialized", policy.deserialize_properties)
    policy.unknown_checking_proxy = _memo("proxy", shallow_proxy)
    servicer.Analyze = _analyzing(servicer.Analyze)
    servicer.AnalyzeStack = _analyzing(servicer.AnalyzeStack)
    if callable(getattr(servicer, "_get_resource_options", None)):
        servicer._get_resource_options = _memo_method("options", servicer._get_resource_options)
    if callable(getattr(servicer, "_get_provider_resource", None)):
        servicer._get_provider_resource = _memo_method("provider", servicer._get_provider_resource)
    if callable(getattr(policy, "signature", None)):
        policy.signature = _signature_once(policy.signature)
    return True


def _memo_method(name: str, method: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``method(self, request)`` once per request object (it is called once per policy)."""

    def memoized(self: Any, request: Any) -> Any:
        return memo_by_identity(name, request, lambda: method(self, request))

    memoized.__wrapped__ = method  # type: ignore[attr-defined]
    return memoized


def _signature_once(signature: Callable[[Any], Any]) -> Callable[..., Any]:
    """``inspect.signature`` cached per callable: pulumi_policy asks it for ``pulumi.runtime.Settings``
    on every request while configuring the runtime (a tenth of the pack's CPU). A Signature is immutable."""
    known: dict[Any, Any] = {}

    def cached(obj: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            return signature(obj, *args, **kwargs)
        try:
            found = known.get(obj)
        except TypeError:  # unhashable
            return signature(obj)
        if found is None:
            found = known[obj] = signature(obj)
        return found

    cached.__wrapped__ = signature  # type: ignore[attr-defined]
    return cached


def shallow_proxy(props: Any) -> Any:
    """pulumi_policy's unknown-checking proxy of the top level only.

    Every rule of this pack reads a resource through ``pack.to_resource``, which takes the whole
    value from the proxy's ``__target`` and turns unknowns into ``UNKNOWN`` itself; nothing reads a
    field through the proxy. The library's proxy wraps every nested value with a copied path list
    (about 40% of the pack's CPU, most of it on the Flink CRDs' schemas), which nothing here uses.
    """
    from pulumi_policy.proxy import _DictProxy

    return _DictProxy(props, []) if isinstance(props, dict) else props


def memo_by_identity(name: str, key: Any, make: Callable[[], Any]) -> Any:
    """``make()`` once per ``key`` object on this thread; the entry holds ``key``, so its identity
    cannot be reused by another object while cached."""
    try:
        cache = _local.caches[name]
    except (AttributeError, KeyError):
        cache = _cache(name)
    entry = cache.get(id(key))
    if entry is None or entry[0] is not key:
        if len(cache) >= CAPACITY:
            cache.clear()
        entry = (key, make())
        cache[id(key)] = entry
    return entry[1]


_MISSING: Any = object()


class LazyStruct(Mapping[str, Any]):
    """A protobuf ``Struct`` as a read-only mapping whose fields convert on first read.

    Each field reads as ``pack._raw(unknown_checking_proxy(deserialize_properties(MessageToDict(s))))``
    would have it (see :func:`convert_value`): the same keys in the same order, the same values. Nested
    objects are LazyStructs, lists are lists. Holds its ``Struct``; never changes it.
    """

    __slots__ = ("_fields", "_read", "_whole")

    def __init__(self, struct: Any) -> None:
        self._fields = struct.fields
        self._read: dict[str, Any] = {}  # the fields converted so far
        self._whole: dict[str, Any] | None = None  # all fields, in the Struct's order, once listed

    def __getitem__(self, key: str) -> Any:
        found = self.get(key, _MISSING)
        if found is _MISSING:
            raise KeyError(key)
        return found

    def get(self, key: str, default: Any = None) -> Any:
        read = self._read
        found = read.get(key, _MISSING)
        if found is not _MISSING:
            return found
        fields = self._fields
        if type(key) is not str or key not in fields:  # a map's [] would insert the key
            return default
        found = read[key] = convert_value(fields[key])
        return found

    def __contains__(self, key: object) -> bool:
        return type(key) is str and key in self._fields

    def __len__(self) -> int:
        return len(self._fields)

    def _all(self) -> dict[str, Any]:
        whole = self._whole
        if whole is None:
            get = self.get
            whole = self._whole = {key: get(key) for key in self._fields}
            self._read = whole
        return whole

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def keys(self) -> KeysView[str]:
        return self._all().keys()

    def items(self) -> ItemsView[str, Any]:
        return self._all().items()

    def values(self) -> ValuesView[Any]:
        return self._all().values()

    def __repr__(self) -> str:
        return repr(self._all())

    __hash__ = None  # type: ignore[assignment]  # like dict


def convert_value(message: Any) -> Any:
    """One ``google.protobuf.Value`` as the pack reads it (json_format's ``_ValueMessageToJsonObject``,
    then pulumi_policy's ``_deserialize_property``, then ``UNKNOWN`` for the engine's sentinels)."""
    kind = message.WhichOneof("kind")
    if kind == "string_value":
        text = message.string_value
        return UNKNOWN if text in UNKNOWN_SENTINELS else text
    if kind == "struct_value":
        struct = message.struct_value
        return _special(struct) if SPECIAL_SIG_KEY in struct.fields else LazyStruct(struct)
    if kind == "list_value":
        return [convert_value(item) for item in message.list_value.values]
    if kind == "number_value":
        number = message.number_value
        if math.isinf(number) or math.isnan(number):  # as json_format refuses them
            raise ValueError(f"Fail to serialize {number} for Value.number_value")
        return number
    if kind == "bool_value":
        return bool(message.bool_value)
    return None  # null_value, or no kind set


def _special(struct: Any) -> Any:
    """A secret, asset or archive: converted whole, exactly as pulumi_policy does (rare and small)."""
    from google.protobuf import json_format
    from pulumi_policy.deserialize import _deserialize_property

    from .pack import _raw  # plain data with unknowns as UNKNOWN (pack imports this module)

    return _raw(_deserialize_property(json_format.MessageToDict(struct)))
