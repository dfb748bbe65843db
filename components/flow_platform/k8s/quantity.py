"""Kubernetes resource quantities (``500m``, ``16Gi``) as exact numbers.

Config compares and sizes things by quantity (a heap that must fit in a request, a default
that must not exceed a maximum), so quantities are parsed once into ``Decimal`` and compared
numerically instead of as strings.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import total_ordering

from ..validation import QUANTITY_HELP

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_PATTERN = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$")


MIB = 2**20
GIB = 2**30


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity."""


def parse_quantity(text: str | int | float) -> Decimal:
    """Return the quantity's value in base units (cores for CPU, bytes for memory)."""
    if isinstance(text, bool):
        raise QuantityError(f"{text!r} is not {QUANTITY_HELP}")
    raw = str(text).strip()
    match = _PATTERN.match(raw)
    if not match:
        raise QuantityError(f"{raw!r} is not {QUANTITY_HELP}")
    number, exponent, suffix = match.groups()
    try:
        value = Decimal(number)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid numbers
        raise QuantityError(f"{raw!r} is not {QUANTITY_HELP}") from exc
    if exponent:
        return value * (Decimal(10) ** int(exponent[1:]))
    if suffix in _BINARY:
        return value * _BINARY[suffix]
    return value * _DECIMAL[suffix or ""]


@total_ordering
@dataclass(frozen=True)
class Quantity:
    """A quantity that remembers how it was written and compares by value."""

    text: str
    value: Decimal = field(compare=False)

    @classmethod
    def parse(cls, text: "str | int | float | Quantity") -> "Quantity":
        if isinstance(text, Quantity):
            return text
        return cls(str(text).strip(), parse_quantity(text))

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __lt__(self, other: "Quantity") -> bool:
        return self.value < other.value

    @property
    def mebibytes(self) -> int:
        """Whole MiB, rounded down (memory quantities only)."""
        return int(self.value // MIB)


def mebibytes(quantity: "str | Quantity") -> int:
    """Whole MiB in a memory quantity, rounded down."""
    return Quantity.parse(quantity).mebibytes
