"""Money in and out of the API: Decimal strings, never floats.

Input: `MoneyIn` / `QtyIn` / `PriceIn` accept a JSON string (or an integer) holding a finite
decimal with at most 8 decimal places (the stored precision); a float is refused, because
`0.1` in JSON already lost the amount the client meant. Output: `Money` serializes a Decimal as
`money_str`, the stored value with trailing zeros stripped but at least two decimals
("100000.00", "123.456789").
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from quantdesk.models.portfolio import SCALE, fixed8

_TWO = Decimal("0.01")


def money_str(value: Decimal) -> str:
    """`value` at the stored precision, trailing zeros stripped to at least 2 decimals."""
    exact = fixed8(value)
    text = format(exact.normalize(), "f")
    if exact == exact.quantize(_TWO):
        return format(exact.quantize(_TWO), "f")
    return text


def _parse_decimal(value: object) -> Decimal:
    if isinstance(value, bool | float):
        raise ValueError('expected a decimal string such as "100.50" (floats lose cents)')
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        parsed = value
    elif isinstance(value, str) and len(value) <= 40:
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
    else:
        raise ValueError('expected a decimal string such as "100.50"')
    if not parsed.is_finite():
        raise ValueError("expected a finite decimal number")
    exponent = parsed.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -SCALE:
        raise ValueError(f"at most {SCALE} decimal places")
    if abs(parsed) >= Decimal(10) ** 10:
        raise ValueError("too large (at most 9,999,999,999.99999999)")
    return parsed


def _positive(value: object) -> Decimal:
    parsed = _parse_decimal(value)
    if parsed <= 0:
        raise ValueError("must be greater than 0")
    return parsed


def _not_negative(value: object) -> Decimal:
    parsed = _parse_decimal(value)
    if parsed < 0:
        raise ValueError("must not be negative")
    return parsed


_DECIMAL_SCHEMA = WithJsonSchema(
    {"type": "string", "pattern": r"^-?\d+(\.\d{1,8})?$", "examples": ["100.00"]}
)
# Request fields.
PositiveDecimal = Annotated[Decimal, BeforeValidator(_positive), _DECIMAL_SCHEMA]
NonNegativeDecimal = Annotated[Decimal, BeforeValidator(_not_negative), _DECIMAL_SCHEMA]
# Response fields.
Money = Annotated[
    Decimal,
    PlainSerializer(money_str, return_type=str, when_used="always"),
    WithJsonSchema({"type": "string", "examples": ["100000.00"]}),
]
