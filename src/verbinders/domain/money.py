"""Money: euros with cents, exact. `Decimal` with two places, never a float.

In events and over HTTP an amount is a JSON string, `"1250.00"` (msgspec encodes a `Decimal`
as a string); a float is refused wherever it would otherwise slip in. Amounts are bounded
(`MONEY_MAX`), so sums of them stay far inside what PostgreSQL's `numeric` and JSON hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Annotated

import msgspec

from verbinders.errors import InvalidCommand

__all__ = ["CENT", "MONEY_MAX", "ZERO", "Amount", "amount", "euros", "total"]

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MONEY_MAX = Decimal("1000000000.00")
"""A billion euros: more than any round, grant or budget line will hold."""

Amount = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9]{1,10}(\.[0-9]{1,2})?$",
        max_length=13,
        description='Euros with at most two decimals, as a string: "1250.00"',
        examples=["1250.00"],
    ),
]
"""An amount as the HTTP API takes it (a string, never a JSON number)."""


def amount(
    value: Decimal | str | int,
    *,
    field: str,
    minimum: Decimal = ZERO,
    maximum: Decimal = MONEY_MAX,
) -> Decimal:
    """An exact amount of euros with at most two decimals, from `minimum` to `maximum`."""
    if isinstance(value, bool | float):
        raise InvalidCommand(
            f'{field} must be an exact amount such as "1250.00", not a float',
            field=field,
            rule="money",
        )
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidCommand(
            f'{field} must be an amount of euros such as "1250.00"', field=field, rule="money"
        ) from None
    if not number.is_finite() or number != number.quantize(CENT, rounding="ROUND_DOWN"):
        raise InvalidCommand(
            f"{field} must be euros with at most two decimals (cents)", field=field, rule="money"
        )
    if not minimum <= number <= maximum:
        raise InvalidCommand(
            f"{field} must lie between {euros(minimum)} and {euros(maximum)}",
            field=field,
            rule="range",
        )
    return number.quantize(CENT)


def total(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO).quantize(CENT)


def euros(value: Decimal) -> str:
    """`€ 1,250.00`-free plain text: `1250.00`."""
    return str(value.quantize(CENT))
