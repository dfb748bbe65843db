"""One set of argument checks for the components and the stack config models.

Each check is a plain function: it takes a value and returns it (enum members become their plain
string value) or raises ``ValueError`` with a message that says what is allowed. The stack config
models wrap the same functions in pydantic validators (which name the stack file's key path);
components declare an :class:`ArgsSpec` that applies them to their ``args`` before any resource is
registered, and report problems as :class:`ArgsError` naming the component, the key and what is
allowed. Values that are Pulumi Outputs are checked when they resolve.
"""

import difflib
import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pulumi

if TYPE_CHECKING:
    from .k8s.quantity import Quantity

T = TypeVar("T")
ArgsT = TypeVar("ArgsT", bound=Mapping[str, object])

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS_LABEL_HELP = (
    "a DNS label: lowercase letters, digits and '-', 1-63 characters, starting and ending alphanumeric"
)
DNS_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_SUBDOMAIN_HELP = (
    "a Kubernetes object name: lowercase letters, digits, '-' and '.', at most 253 characters"
)
HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$"
)
HOSTNAME_HELP = "a fully qualified host name in lowercase, such as flow.example.com"
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
IMAGE_HELP = (
    "an image reference pinned by tag or digest, such as registry.example.com/team/app:1.2.3"
    " (a tag other than 'latest', or @sha256:<64 hex digits>)"
)
CRON = re.compile(r"^(\S+\s+){4}\S+$")
QUANTITY_HELP = (
    "a Kubernetes quantity: a number with an optional suffix m, k, M, G, T, Ki, Mi, Gi or Ti"
    " (e.g. 500m, 2, 16Gi)"
)
MIB = 2**20
RESERVED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
CHECK_HELP_ATTRIBUTE = "help"


def _text(value: object, what: str) -> str:
    if isinstance(value, Enum):
        value = value.value
    if not isinstance(value, str):
        raise ValueError(f"expected {what}, got {type(value).__name__} {value!r}")
    return value


def described(help_text: str) -> Callable[[Callable[[Any], T]], Callable[[Any], T]]:
    """Attach what a check allows, for the message about a missing required key."""

    def wrap(check: Callable[[Any], T]) -> Callable[[Any], T]:
        setattr(check, CHECK_HELP_ATTRIBUTE, help_text)
        return check

    return wrap


def help_of(check: Callable[[Any], Any]) -> str:
    return str(getattr(check, CHECK_HELP_ATTRIBUTE, "a value"))


# --- quantities -----------------------------------------------------------------------------------


MAX_QUANTITY = 2**60
"""1Ei: far above any real request, and below what arithmetic on quantities can overflow."""


def _parse_quantity(value: object) -> "Quantity":
    # imported here: flow_platform.k8s imports this module (its components check their args)
    from .k8s.quantity import Quantity, QuantityError

    if isinstance(value, bool) or not isinstance(value, str | int | float | Quantity):
        raise ValueError(f"expected {QUANTITY_HELP}, got {value!r}")
    try:
        parsed = Quantity.parse(value)
    except QuantityError:
        raise ValueError(f"expected {QUANTITY_HELP}") from None
    if not parsed.value.is_finite() or abs(parsed.value) > MAX_QUANTITY:
        raise ValueError(f"{parsed.text} is out of range: quantities are at most 1Ei")
    return parsed


@described(QUANTITY_HELP)
def quantity(value: object) -> "Quantity":
    """Any non-negative Kubernetes quantity (a quota, a count)."""
    parsed = _parse_quantity(value)
    if parsed.value < 0:
        raise ValueError(f"{parsed.text} is negative: expected {QUANTITY_HELP}")
    return parsed


@described(f"a CPU amount greater than 0: {QUANTITY_HELP}")
def cpu(value: object) -> "Quantity":
    """A CPU request or limit: greater than zero (``250m``, ``2``)."""
    parsed = _parse_quantity(value)
    if parsed.value <= 0:
        raise ValueError("CPU must be greater than 0 (e.g. 250m or 2)")
    return parsed


@described(f"a memory size of at least 4Mi: {QUANTITY_HELP}")
def memory(value: object) -> "Quantity":
    """A memory (or storage) size: binary or decimal units, never millibytes, at least 4 MiB."""
    parsed = _parse_quantity(value)
    if parsed.value <= 0:
        raise ValueError("memory must be greater than 0 (e.g. 512Mi or 2Gi)")
    if parsed.text.endswith("m"):
        raise ValueError("memory in millibytes is almost certainly a typo: use Mi or Gi (e.g. 512Mi)")
    if parsed.value < 4 * MIB:
        raise ValueError(f"{parsed.text} bytes is too small for memory: add a unit, e.g. {parsed.text}Gi")
    return parsed


storage = memory


# --- names ----------------------------------------------------------------------------------------


@described(DNS_LABEL_HELP)
def dns_label(value: object) -> str:
    """A DNS label (RFC 1123): namespace, Service and container names."""
    text = _text(value, DNS_LABEL_HELP)
    if not DNS_LABEL.match(text):
        raise ValueError(f"{text!r} is not {DNS_LABEL_HELP}")
    return text


@described(DNS_LABEL_HELP)
def namespace_name(value: object) -> str:
    """The name of an existing namespace to deploy into."""
    return dns_label(value)


@described(f"{DNS_LABEL_HELP}, not one of {', '.join(RESERVED_NAMESPACES)}")
def owned_namespace(value: object) -> str:
    """A namespace flow-platform creates and owns: never one of the cluster's system namespaces."""
    text = dns_label(value)
    if text in RESERVED_NAMESPACES:
        raise ValueError(f"{text!r} is a system namespace; give the system its own")
    return text


@described(DNS_SUBDOMAIN_HELP)
def object_name(value: object) -> str:
    """A Kubernetes object name (DNS subdomain): claims, Secrets, StorageClasses, IngressClasses."""
    text = _text(value, DNS_SUBDOMAIN_HELP)
    if not DNS_SUBDOMAIN.match(text):
        raise ValueError(f"{text!r} is not {DNS_SUBDOMAIN_HELP}")
    return text


@described(HOSTNAME_HELP)
def hostname(value: object) -> str:
    text = _text(value, HOSTNAME_HELP)
    if not HOSTNAME.match(text):
        raise ValueError(f"{text!r} is not {HOSTNAME_HELP}")
    return text


@described("a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric")
def label_value(value: object) -> str:
    text = _text(value, "a label value")
    if not text or not LABEL_VALUE.match(text):
        raise ValueError(
            f"{text!r} is not a label value: 1-63 letters, digits, '-', '_' or '.', starting and ending"
            " alphanumeric"
        )
    return text


@described("a map of Kubernetes label keys to label values")
def labels(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping) or not value:
        raise ValueError(f"expected a non-empty map of label keys to values, got {value!r}")
    result: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not LABEL_KEY.match(key):
            raise ValueError(f"{key!r} is not a label key (prefix/name, name at most 63 characters)")
        result[key] = label_value(item)
    return result


# --- images ---------------------------------------------------------------------------------------


@described("an image tag: letters, digits, '_', '.' and '-' (at most 128), never 'latest'")
def image_tag(value: object) -> str:
    text = _text(value, "an image tag")
    if not IMAGE_TAG.match(text):
        raise ValueError(f"{text!r} is not an image tag: letters, digits, '_', '.' and '-' (at most 128)")
    if text == "latest":
        raise ValueError("'latest' is not a version: pin the tag you tested (e.g. 23.0809.22)")
    return text


@described(IMAGE_HELP)
def image_reference(value: object) -> str:
    """An image reference pinned by tag (not ``latest``) or digest."""
    from .aws.images import ImageRef  # the one parser of image references

    text = _text(value, IMAGE_HELP)
    try:
        ref = ImageRef.parse(text)
    except ValueError as exc:
        raise ValueError(f"{exc}; expected {IMAGE_HELP}") from None
    if ref.tag is None and ref.digest is None:
        raise ValueError(f"{text!r} has no tag or digest: pin the version you tested ({IMAGE_HELP})")
    if ref.tag == "latest" and ref.digest is None:
        raise ValueError(f"{text!r}: 'latest' is not a version; pin the tag you tested or a digest")
    return text


# --- numbers, enums, networks ---------------------------------------------------------------------


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise ValueError(f"expected a whole number, got {value!r}")
    return int(value)


@described("a whole number of at least 1")
def positive_int(value: object) -> int:
    number = _integer(value)
    if number < 1:
        raise ValueError(f"expected a whole number of at least 1, got {value!r}")
    return number


@described("a whole number of at least 0")
def non_negative_int(value: object) -> int:
    number = _integer(value)
    if number < 0:
        raise ValueError(f"expected a whole number of at least 0, got {value!r}")
    return number


@described("a positive number")
def positive_number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
        raise ValueError(f"expected a number greater than 0, got {value!r}")
    return value


@described("a TCP port between 1 and 65535")
def port(value: object) -> int:
    number = _integer(value)
    if not 1 <= number <= 65535:
        raise ValueError(f"port {value!r} is not between 1 and 65535")
    return number


@described("true or false")
def boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


@described("a string")
def text(value: object) -> str:
    return _text(value, "a string")


@described("a non-empty string")
def non_empty_text(value: object) -> str:
    result = _text(value, "a non-empty string")
    if not result.strip():
        raise ValueError("expected a non-empty string")
    return result


def one_of(enum_type: type[Enum]) -> Callable[[Any], str]:
    """A member of ``enum_type`` (or its value); returns the plain value."""
    return choice([str(member.value) for member in enum_type])


def choice(allowed: Sequence[str]) -> Callable[[Any], str]:
    """One of a fixed list of strings (a CRD's enum, for example)."""
    help_text = f"one of {', '.join(repr(a) for a in allowed)}"

    @described(help_text)
    def check(value: object) -> str:
        raw = value.value if isinstance(value, Enum) else value
        if raw not in allowed:
            raise ValueError(f"{value!r} is not {help_text}")
        return str(raw)

    return check


PSA_VERSION = re.compile(r"^(latest|v1\.\d{1,2})$")


@described("a Pod Security Admission version: 'latest' or v1.<minor>, such as v1.32")
def psa_version(value: object) -> str:
    version = _text(value, "a Pod Security Admission version")
    if not PSA_VERSION.match(version):
        raise ValueError(
            f"{version!r} is not a Pod Security Admission version: 'latest' or v1.<minor> (v1.32)"
        )
    return version


@described("a CIDR block such as 10.0.0.0/16 (not 0.0.0.0/0)")
def cidr(value: object) -> str:
    block = _text(value, "a CIDR block")
    try:
        network = ipaddress.ip_network(block, strict=True)
    except ValueError:
        raise ValueError(f"{block!r} is not a CIDR block such as 10.0.0.0/16 (host bits zero)") from None
    if network.prefixlen == 0:
        raise ValueError(
            f"{block!r} opens egress to everything (or ingress from anywhere): name the exact range"
        )
    return block


@described("a cron schedule of five fields, such as '17 3 * * *'")
def cron_schedule(value: object) -> str:
    schedule = _text(value, "a cron schedule")
    if not CRON.match(schedule.strip()):
        raise ValueError(f"{schedule!r} is not a cron schedule of five fields, such as '17 3 * * *'")
    return schedule


AWS_ACCOUNT_ID = re.compile(r"^\d{12}$")
AWS_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:.+$")


@described("an AWS account id (12 digits)")
def aws_account_id(value: object) -> str:
    account = _text(value, "an AWS account id")
    if not AWS_ACCOUNT_ID.match(account):
        raise ValueError(f"{account!r} is not an AWS account id (12 digits)")
    return account


@described("an AWS region such as eu-west-1")
def aws_region(value: object) -> str:
    region = _text(value, "an AWS region")
    if not AWS_REGION.match(region):
        raise ValueError(f"{region!r} is not an AWS region such as eu-west-1")
    return region


@described("an ARN such as arn:aws:kms:eu-west-1:123456789012:key/...")
def arn(value: object) -> str:
    name = _text(value, "an ARN")
    if not ARN.match(name):
        raise ValueError(f"{name!r} is not an ARN (arn:aws:<service>:<region>:<account>:<resource>)")
    return name


@described("an AWS resource id such as subnet-0123abcd")
def aws_id(value: object) -> str:
    name = _text(value, "an AWS resource id")
    if not re.match(r"^[a-z]+-[0-9a-f]{8,17}$", name):
        raise ValueError(f"{name!r} is not an AWS resource id such as subnet-0123abcd")
    return name


@described("an absolute path such as /partek/home")
def absolute_path(value: object) -> str:
    path = _text(value, "an absolute path")
    if not path.startswith("/") or "//" in path or "/../" in f"{path}/" or len(path) > 100:
        raise ValueError(f"{path!r} is not an absolute path without '..' (at most 100 characters)")
    return path


ECR_PREFIX = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*$")


@described("an ECR repository prefix: lowercase letters and digits separated by '.', '_' or '-'")
def repository_prefix(value: object) -> str:
    prefix = _text(value, "an ECR repository prefix")
    if not ECR_PREFIX.match(prefix):
        raise ValueError(f"{prefix!r} is not an ECR repository prefix such as flow-platform")
    return prefix


def list_of(item: Callable[[Any], Any], min_length: int = 0) -> Callable[[Any], list[Any]]:
    """A list whose items pass ``item``; problems name the index."""

    @described(f"a list of {help_of(item)}" + (f" (at least {min_length})" if min_length else ""))
    def check(value: object) -> list[Any]:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise ValueError(f"expected a list, got {value!r}")
        if len(value) < min_length:
            raise ValueError(f"expected at least {min_length} item(s), got {len(value)}")
        return [_check_nested(item, element, f"[{i}]") for i, element in enumerate(value)]

    return check


def map_of(
    item: Callable[[Any], Any], keys: Callable[[Any], str] | None = None
) -> Callable[[Any], dict[str, Any]]:
    """A map of strings to values that pass ``item``; problems name the key."""

    @described(f"a map of names to {help_of(item)}")
    def check(value: object) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise ValueError(f"expected a map, got {value!r}")
        result: dict[str, Any] = {}
        for key, element in value.items():
            name = _text(key, "a string key")
            if keys is not None:
                try:
                    keys(name)
                except ValueError as exc:
                    raise _Problem(f"[{name!r}]", f"key: {exc}") from None
            result[name] = _check_nested(item, element, f"[{name!r}]")
        return result

    return check


def resource_map(allowed: Sequence[str], amount: Callable[[Any], Any]) -> Callable[[Any], dict[str, Any]]:
    """A map of resource names (from ``allowed``) to quantities, as strings."""

    def check_key(name: object) -> str:
        key = _text(name, "a resource name")
        if key not in allowed:
            raise ValueError(f"{key!r} is not one of {', '.join(allowed)}")
        return key

    def as_text(value: object) -> str:
        return str(amount(value))

    setattr(as_text, CHECK_HELP_ATTRIBUTE, help_of(amount))
    return map_of(as_text, keys=check_key)


# --- component args -------------------------------------------------------------------------------


class ArgsError(ValueError):
    """A component got an argument it cannot use: names the component, the key and what is allowed."""

    def __init__(self, component: str, resource_name: str, key: str, problem: str) -> None:
        """``key`` is the path inside ``args``, such as ``['session_jobs'][1]['name']``."""
        self.component = component
        self.resource_name = resource_name
        self.key = key
        self.problem = problem
        super().__init__(f"{component} {resource_name!r}: args{key}: {problem}")


class _Problem(ValueError):
    """A nested problem on its way up, collecting the key path."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


_Reporter = Callable[[str, str], Exception]
_CONTEXT: ContextVar[tuple[_Reporter, str] | None] = ContextVar("flow_platform_args_context", default=None)
"""While a component's args are checked: how to report a problem, and the path of the current value's
parent. An Output captures it, so a problem found when the Output resolves still names the component."""


def _check_nested(check: Callable[[Any], Any], value: object, path: str) -> Any:
    """Run ``check`` on ``value`` at ``path``; an Output is checked when it resolves."""
    context = _CONTEXT.get()
    if isinstance(value, pulumi.Output):

        def check_resolved(resolved: object) -> Any:
            token = _CONTEXT.set(context)
            try:
                return _check_nested(check, resolved, path)
            except _Problem as problem:
                if context is None:
                    raise
                report, prefix = context
                raise report(prefix + problem.path, problem.problem) from None
            finally:
                _CONTEXT.reset(token)

        return value.apply(check_resolved)
    token = _CONTEXT.set((context[0], context[1] + path)) if context is not None else None
    try:
        result = check(value)
    except _Problem as problem:
        raise _Problem(f"{path}{problem.path}", problem.problem) from None
    except ValueError as exc:
        raise _Problem(path, str(exc)) from None
    finally:
        if token is not None:
            _CONTEXT.reset(token)
    from .k8s.quantity import Quantity

    # components receive what the user wrote: quantities stay strings, enum members plain values
    return result.text if isinstance(result, Quantity) else result


def _key_path(key: str) -> str:
    return f"[{key!r}]"


@dataclass(frozen=True)
class ArgsSpec:
    """How to check one ``*Args`` TypedDict: one check per key, required keys from the TypedDict.

    ``check`` returns a new dict with every present value checked (an Output is checked when it
    resolves) and enum members replaced by their values; the input is never modified.
    """

    name: str
    """The TypedDict's (or component's) name used in messages."""
    typed_dict: type
    checks: Mapping[str, Callable[[Any], Any]]
    """One check per key of the TypedDict (a test enforces completeness)."""
    rules: Sequence[Callable[[Mapping[str, Any]], None]] = field(default=())
    """Rules across keys; each raises ``_Problem``/``ValueError`` naming the offending key."""

    @property
    def required_keys(self) -> frozenset[str]:
        return frozenset(getattr(self.typed_dict, "__required_keys__", frozenset()))

    @property
    def all_keys(self) -> frozenset[str]:
        return frozenset(getattr(self.typed_dict, "__annotations__", {}))

    def __call__(self, value: object) -> dict[str, Any]:
        """Use a spec as the check of a nested TypedDict."""
        if not isinstance(value, Mapping):
            raise ValueError(f"expected a map with keys {', '.join(sorted(self.all_keys))}, got {value!r}")
        checked: dict[str, Any] = {}
        for key, element in value.items():
            if key not in self.checks:
                close = difflib.get_close_matches(str(key), sorted(self.checks), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise _Problem(
                    _key_path(str(key)),
                    f"unknown key{hint} allowed keys: {', '.join(sorted(self.checks))}",
                )
            if element is None and key not in self.required_keys:
                continue
            checked[key] = _check_nested(self.checks[key], element, _key_path(key))
        for key in sorted(self.required_keys):
            if checked.get(key) is None:
                raise _Problem(_key_path(key), f"required key missing: expected {help_of(self.checks[key])}")
        for rule in self.rules:
            try:
                rule(checked)
            except _Problem:
                raise
            except ValueError as exc:
                raise _Problem("", str(exc)) from None
        return checked

    def check(self, resource_name: str, args: ArgsT) -> ArgsT:
        """Check a component's ``args``; raises :class:`ArgsError` before any resource is registered."""

        def report(path: str, problem: str) -> Exception:
            return ArgsError(self.name, resource_name, path, problem)

        token = _CONTEXT.set((report, ""))
        try:
            checked = self(args)
        except _Problem as problem:
            raise ArgsError(self.name, resource_name, problem.path, problem.problem) from None
        except ValueError as exc:
            raise ArgsError(self.name, resource_name, "", str(exc)) from None
        finally:
            _CONTEXT.reset(token)
        return cast(ArgsT, checked)


def not_below(
    key: str, floor_key: str, floor_default: str | None = None
) -> Callable[[Mapping[str, Any]], None]:
    """A rule: quantity ``key`` (when set) is not below ``floor_key`` (a limit below its request)."""

    def predicate(args: Mapping[str, Any]) -> str | None:
        value, floor = args.get(key), args.get(floor_key, floor_default)
        if any(x is None or isinstance(x, pulumi.Output) for x in (value, floor)):
            return None
        if _parse_quantity(value) < _parse_quantity(floor):
            return f"{value} is below {floor_key} ({floor})"
        return None

    return rule(key, predicate)


def rule(
    key: str, predicate: Callable[[Mapping[str, Any]], str | None]
) -> Callable[[Mapping[str, Any]], None]:
    """A rule across keys: ``predicate`` returns a problem (reported on ``key``) or None."""

    def run(args: Mapping[str, Any]) -> None:
        problem = predicate(args)
        if problem:
            raise _Problem(_key_path(key), problem)

    return run


def mode_field_problem(
    mode: str, fields_by_mode: Mapping[str, Sequence[str]], present: Callable[[str], bool]
) -> tuple[str, str] | None:
    """The per-mode rule of a ``mode`` switch: each mode's fields are required in that mode and
    forbidden in the others. The first field that breaks it, with why, or None.

    ``present(field)`` says whether a field is set (not None, not empty)."""
    own = fields_by_mode.get(mode, ())
    for name in own:
        if not present(name):
            return name, f"required when mode is {mode!r}"
    for other, fields in fields_by_mode.items():
        for name in fields:
            if other != mode and name not in own and present(name):
                return name, f"only applies to mode {other!r}, not {mode!r}"
    return None
