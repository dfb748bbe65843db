"""Convert each request once, not once per policy.

pulumi_policy 1.x (``policy.py``, ``_PolicyAnalyzerServicer.Analyze``) converts the same
``request.properties`` for every policy in turn: ``json_format.MessageToDict``, then
``deserialize_properties``, then ``unknown_checking_proxy``, then our own read into plain data. With
twenty-odd policies that conversion is most of the pack's time. :func:`install` memoizes each step on
the identity of its input, per server thread (a request is handled on one thread; an entry holds its
input, so a new request can never share its identity). Every step builds new objects from
its input and nothing downstream mutates them (analysis only reads), so sharing them is safe. A
pulumi_policy without these names is left alone.
"""

import threading
from collections.abc import Callable
from typing import Any

_local = threading.local()


CAPACITY = 2048  # entries per thread and step: a whole stack (AnalyzeStack converts each resource per policy)


def _cache(name: str) -> dict[int, tuple[Any, Any]]:
    cache: dict[int, tuple[Any, Any]] | None = getattr(_local, name, None)
    if cache is None or len(cache) >= CAPACITY:
        cache = {}
        setattr(_local, name, cache)
    return cache


def _memo(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def memoized(value: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:  # remediation's secret-preserving variant, options: not memoized
            return function(value, *args, **kwargs)
        return memo_by_identity(name, value, lambda: function(value))

    memoized.__wrapped__ = function  # type: ignore[attr-defined]
    return memoized


class _JsonFormat:
    """``google.protobuf.json_format`` with ``MessageToDict`` memoized (everything else as is)."""

    def __init__(self, module: Any) -> None:
        self._module = module
        self.MessageToDict = _memo("message", module.MessageToDict)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def install() -> bool:
    """Memoize pulumi_policy's per-policy conversions; False when its layout is not the known one."""
    try:
        import pulumi_policy.policy
    except ImportError:
        return False
    policy: Any = pulumi_policy.policy
    names = ("json_format", "deserialize_properties", "unknown_checking_proxy")
    if not all(hasattr(policy, n) for n in names) or isinstance(policy.json_format, _JsonFormat):
        return isinstance(getattr(policy, "json_format", None), _JsonFormat)
    policy.json_format = _JsonFormat(policy.json_format)
    policy.deserialize_properties = _memo("deserialized", policy.deserialize_properties)
    policy.unknown_checking_proxy = _memo("proxy", shallow_proxy)
    return True


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
    cache = _cache(name)
    entry = cache.get(id(key))
    if entry is None or entry[0] is not key:
        entry = (key, make())
        cache[id(key)] = entry
    return entry[1]
