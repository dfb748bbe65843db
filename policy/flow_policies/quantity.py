"""Kubernetes quantities, compared by value (the pack is self-contained, so it parses its own)."""

import re
from decimal import Decimal

_UNITS = {
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|[numkMGTP])?$")


def quantity(text: object) -> Decimal | None:
    """The value of a quantity, or None when it is not one."""
    match = _QUANTITY.match(str(text).strip())
    if match is None or isinstance(text, bool):
        return None
    return Decimal(match.group(1)) * _UNITS[match.group(2) or ""]
