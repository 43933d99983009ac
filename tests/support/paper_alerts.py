"""Watchlist and price-alert test helpers: signed-in users, instruments with or without a
stored quote, and problem bodies compared without their per-request fields."""

from __future__ import annotations

from typing import Any

import httpx

from quantdesk.db import Database
from tests.support.accounts import bearer, create_user, login
from tests.support.factories import create_instrument, load_bars, synthetic_bars

WATCHLISTS = "/api/v1/watchlists"
ALERTS = "/api/v1/alerts"


async def user_headers(client: httpx.AsyncClient, db: Database) -> dict[str, str]:
    """Bearer headers of a new ordinary user."""
    return bearer(await login(client, await create_user(db)))


async def stock(db: Database, symbol: str, *, bars: int = 0, price: float = 100.0) -> None:
    """An instrument; with `bars` daily bars stored its quote (the last close) exists too."""
    await create_instrument(db, symbol)
    if bars:
        await load_bars(db, symbol, synthetic_bars(bars, price=price))


def same_problem(body: dict[str, Any], asked: str) -> dict[str, Any]:
    """A problem body without what differs per request (instance, request id) and with the
    id that was asked for replaced by `<id>`: a missing id and someone else's compare equal."""
    kept = {k: v for k, v in body.items() if k not in ("instance", "request_id")}
    kept["detail"] = str(kept["detail"]).replace(asked, "<id>")
    return kept


def error_fields(body: dict[str, Any]) -> list[str]:
    return [str(error["field"]) for error in body.get("errors", [])]
