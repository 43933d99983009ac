"""Cursor pagination: opaque, URL-safe cursors over a unique sort key.

A cursor encodes the last key of the page served; the next page is `key > cursor`. Unlike
offsets this stays correct and fast while rows are inserted between requests.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import orjson
from pydantic import BaseModel

from quantdesk.errors import Unprocessable, field_error

T = TypeVar("T")


class ListMeta(BaseModel):
    count: int
    next_cursor: str | None = None


class Page(BaseModel, Generic[T]):
    data: list[T]
    meta: ListMeta


def split_page(
    rows: Sequence[T], limit: int, key: Callable[[T], str | int]
) -> tuple[list[T], str | None]:
    """Rows fetched with `limit + 1` -> (the page, the cursor of the next page or None)."""
    page = list(rows[:limit])
    return page, encode_cursor(key(page[-1])) if len(rows) > limit else None


def encode_cursor(key: str | int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"k": key})).decode().rstrip("=")


def decode_cursor(cursor: str) -> str | int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = orjson.loads(base64.urlsafe_b64decode(padded.encode()))["k"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise Unprocessable(
            "cursor is not one this API issued",
            errors=[field_error(["query", "cursor"], "malformed cursor")],
        ) from exc
    if not isinstance(key, str | int):
        raise Unprocessable(errors=[field_error(["query", "cursor"], "malformed cursor")])
    return key
