"""Cursor pagination: opaque, URL-safe cursors over a unique sort key.

A cursor encodes the last key of the page served; the next page is `key > cursor`. Unlike
offsets this stays correct and fast while rows are inserted between requests. Cursors are
signed (HMAC-SHA256, truncated to 128 bits): an edited or forged cursor is a 422 naming
`cursor`, never a key the database is then asked about.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Generic, TypeVar

import orjson
from pydantic import BaseModel

from quantdesk.errors import Unprocessable, field_error

T = TypeVar("T")
_SIGNATURE_BYTES = 16
# Until the app configures it from its secret key (create_app): a per-process key.
_signing_key = secrets.token_bytes(32)


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


def configure_cursor_signing(secret: str) -> None:
    """Sign cursors with a key derived from `secret` (the app's secret key), so every worker
    and every restart accepts the cursors the others issued."""
    global _signing_key
    _signing_key = hmac.new(secret.encode(), b"quantdesk pagination cursor", "sha256").digest()


def _signature(payload: bytes) -> bytes:
    return hmac.new(_signing_key, payload, "sha256").digest()[:_SIGNATURE_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode())


def encode_cursor(key: str | int) -> str:
    """`<payload>.<signature>`, both base64url: opaque, URL-safe and tamper-evident."""
    payload = orjson.dumps({"k": key})
    return f"{_b64(payload)}.{_b64(_signature(payload))}"


def _malformed() -> Unprocessable:
    return Unprocessable(
        "cursor is not one this API issued: pass meta.next_cursor of a page unchanged",
        errors=[field_error(["query", "cursor"], "malformed cursor")],
    )


def decode_cursor(cursor: str) -> str | int:
    """The key `encode_cursor` signed; anything else (edited, truncated, forged, another
    deployment's) is a 422 naming `cursor`."""
    payload_text, dot, signature_text = cursor.partition(".")
    try:
        payload, signature = _unb64(payload_text), _unb64(signature_text)
    except (binascii.Error, ValueError) as exc:
        raise _malformed() from exc
    if not dot or not hmac.compare_digest(signature, _signature(payload)):
        raise _malformed()
    try:
        key = orjson.loads(payload)["k"]
    except (ValueError, KeyError, TypeError) as exc:
        raise _malformed() from exc
    if isinstance(key, bool) or not isinstance(key, str | int):
        raise _malformed()
    return key


def decode_int_cursor(cursor: str) -> int:
    """`decode_cursor` for the routes whose cursor is an integer id."""
    key = decode_cursor(cursor)
    if not isinstance(key, int):
        raise _malformed()
    return key


_TIME_ID_SEPARATOR = "|"


def time_id_key(created_at: datetime, row_id: str) -> str:
    """The cursor key of a list ordered by (created_at, id): newest-first pages of runs and
    orders."""
    return f"{created_at.isoformat()}{_TIME_ID_SEPARATOR}{row_id}"


def decode_time_id_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) a `time_id_key` cursor carries; a 422 naming `cursor` otherwise."""
    key = decode_cursor(cursor)
    created, sep, row_id = str(key).partition(_TIME_ID_SEPARATOR)
    try:
        if not sep or not row_id:
            raise ValueError(cursor)
        return datetime.fromisoformat(created), row_id
    except ValueError as exc:
        message = "malformed cursor: pass meta.next_cursor of a page of this list unchanged"
        raise Unprocessable(message, errors=[field_error(["query", "cursor"], message)]) from exc
