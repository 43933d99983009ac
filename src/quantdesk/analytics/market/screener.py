"""The screener's filter language, compiled to parameterised SQL over `market_snapshot`.

Only allow-listed fields reach SQL, each as its column object; values are always bound
parameters, never text in the statement. Filters are ANDed. Pages are keyset pages over
(sort value with NULLs last, instrument id), so a page never repeats or skips a row however
far the client pages, and a cursor is bound to the query that issued it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, and_, false, or_, select

from quantdesk.errors import Unprocessable, field_error
from quantdesk.kit.pagination import decode_cursor, encode_cursor
from quantdesk.models import MarketSnapshot

NUMBER_FIELDS = (
    "price",
    "previous_close",
    "change",
    "change_pct",
    "open",
    "high",
    "low",
    "volume",
    "turnover",
    "market_cap",
    "pe",
    "rsi_14",
    "sma_50",
    "sma_200",
    "sma_50_distance_pct",
    "sma_200_distance_pct",
    "sentiment",
)
TEXT_FIELDS = (
    "symbol",
    "name",
    "asset_class",
    "exchange",
    "currency",
    "sector",
    "industry",
    "country",
)
FIELDS = NUMBER_FIELDS + TEXT_FIELDS
NUMBER_OPS = (
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "in",
    "not_in",
    "is_null",
)
TEXT_OPS = ("eq", "ne", "in", "not_in", "is_null")
OPERATORS = NUMBER_OPS
MAX_IN_VALUES = 500


def column(name: str) -> Any:
    return getattr(MarketSnapshot, name)


def allowed_message(kind: str, value: str, allowed: tuple[str, ...]) -> str:
    return f"unknown {kind} {value!r}; allowed: {', '.join(allowed)}"


def _bad(index: int, message: str) -> Unprocessable:
    return Unprocessable(
        message, errors=[field_error(["body", "filters", str(index), "value"], message)]
    )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _scalar(index: int, field: str, value: object) -> object:
    if field in NUMBER_FIELDS and not _is_number(value):
        raise _bad(index, f"{field} compares with a number")
    if field in TEXT_FIELDS and not isinstance(value, str):
        raise _bad(index, f"{field} compares with a string")
    return value


def condition(index: int, field: str, op: str, value: object) -> ColumnElement[bool]:
    """One filter as a SQL condition (field and op already checked against the allow-list)."""
    col = column(field)
    if field in TEXT_FIELDS and op not in TEXT_OPS:
        message = f"operator {op!r} does not apply to {field}; allowed: {', '.join(TEXT_OPS)}"
        raise Unprocessable(
            message, errors=[field_error(["body", "filters", str(index), "op"], message)]
        )
    if op == "is_null":
        if not isinstance(value, bool):
            raise _bad(index, "is_null takes true or false")
        null: ColumnElement[bool] = col.is_(None) if value else col.is_not(None)
        return null
    if op == "between":
        if not (isinstance(value, list) and len(value) == 2):
            raise _bad(index, "between takes [low, high]")
        low, high = (_scalar(index, field, item) for item in value)
        between: ColumnElement[bool] = col.between(low, high)
        return between
    if op in ("in", "not_in"):
        if not (isinstance(value, list) and 0 < len(value) <= MAX_IN_VALUES):
            raise _bad(index, f"{op} takes a list of 1 to {MAX_IN_VALUES} values")
        items = [_scalar(index, field, item) for item in value]
        member: ColumnElement[bool] = col.in_(items) if op == "in" else col.not_in(items)
        return member
    scalar = _scalar(index, field, value)
    compare = {
        "eq": col.__eq__,
        "ne": col.__ne__,
        "gt": col.__gt__,
        "gte": col.__ge__,
        "lt": col.__lt__,
        "lte": col.__le__,
    }[op]
    result: ColumnElement[bool] = compare(scalar)
    return result


@dataclass(frozen=True)
class Sort:
    field: str
    descending: bool

    @classmethod
    def parse(cls, text: str) -> Sort:
        return cls(text.lstrip("-"), text.startswith("-"))


def query_hash(filters: Sequence[tuple[str, str, object]], sort: Sort, include_stale: bool) -> str:
    raw = orjson.dumps([filters, sort.field, sort.descending, include_stale])
    return hashlib.sha256(raw).hexdigest()[:16]


def _cursor_error(message: str) -> Unprocessable:
    return Unprocessable(message, errors=[field_error(["body", "cursor"], message)])


def decode_position(cursor: str, expected_query: str) -> tuple[bool, object, int]:
    """(sort value is NULL, sort value, instrument id) of the last row of the previous page."""
    try:
        key = decode_cursor(cursor)
    except Unprocessable as error:
        raise _cursor_error("malformed cursor: pass meta.next_cursor unchanged") from error
    try:
        position = orjson.loads(str(key))
        query, is_null, value, last_id = (position[k] for k in ("q", "n", "v", "i"))
    except (ValueError, KeyError, TypeError) as error:
        raise _cursor_error("malformed cursor: pass meta.next_cursor unchanged") from error
    if query != expected_query:
        raise _cursor_error("this cursor belongs to another query (filters or sort changed)")
    return bool(is_null), value, int(last_id)


def encode_position(query: str, sort_value: object, instrument_id: int) -> str:
    position = {
        "q": query,
        "n": sort_value is None,
        "v": sort_value,
        "i": instrument_id,
    }
    return encode_cursor(orjson.dumps(position).decode())


def paged(
    statement: Select[Any],
    sort: Sort,
    after: tuple[bool, object, int] | None,
    limit: int,
) -> Select[Any]:
    """ORDER BY (value IS NULL), value, instrument_id with the keyset condition after a row."""
    col = column(sort.field)
    ident = MarketSnapshot.instrument_id
    if after is not None:
        is_null, value, last_id = after
        if is_null:
            statement = statement.where(and_(col.is_(None), ident > last_id))
        else:
            beyond = col < value if sort.descending else col > value
            statement = statement.where(
                or_(col.is_(None), beyond, and_(col == value, ident > last_id))
            )
    ordered = col.desc() if sort.descending else col.asc()
    return statement.order_by(col.is_(None), ordered, ident).limit(limit + 1)


def base_statement(conditions: list[ColumnElement[bool]], include_stale: bool) -> Select[Any]:
    statement = select(MarketSnapshot)
    if not include_stale:
        statement = statement.where(MarketSnapshot.current)
    return statement.where(*conditions) if conditions else statement.where(~false())
