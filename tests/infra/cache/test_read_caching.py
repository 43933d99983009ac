"""GET /bars, /indicators and /signals/latest through the cache: a second read is a hit
with the same body, committed new bars for a symbol drop its entries (not another
symbol's), and new signals drop the cached latest signals."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from quantdesk.config import Settings
from quantdesk.db import Database, after_commit_work_done
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.bars_cache import STORE_PROVIDER
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.freshness import use_clock
from quantdesk.marketdata.service import bar_service
from quantdesk.signals.service import signal_service
from tests.support.accounts import bearer, create_user, login
from tests.support.factories import START_2024, create_instrument, load_bars, synthetic_bars
from tests.support.signals import after_close, create_signal, goog_window

FIRST = synthetic_bars(30, seed=3)  # 2024-01-01 .. 2024-01-30
LATER = synthetic_bars(31, seed=4, price=250.0)  # one more day, other prices
NEW_DAY = "2024-01-31T00:00:00Z"

READS: dict[str, tuple[str, dict[str, str]]] = {
    "bars": ("/api/v1/bars/{symbol}?limit=10", {}),
    "bars-columns": ("/api/v1/bars/{symbol}?limit=10&format=columns&time_format=iso", {}),
    "bars-csv": ("/api/v1/bars/{symbol}?limit=10", {"accept": "text/csv"}),
    "indicators": ("/api/v1/indicators/{symbol}?set=rsi:5,sma:3&limit=10", {}),
}


async def _read(
    client: httpx.AsyncClient, path: str, headers: dict[str, str] | None = None
) -> tuple[str, Any]:
    """(X-Cache, body): JSON without `meta.cache` (checked equal to the header), or text."""
    response = await client.get(path, headers=headers or {})
    assert response.status_code == 200, response.text
    status = response.headers["x-cache"]
    if response.headers["content-type"].startswith("text/csv"):
        return status, response.text
    body = response.json()
    if "cache" in body["meta"]:
        assert body["meta"].pop("cache") == status
    return status, body


async def _committed() -> None:
    # The invalidation runs as a task started at commit: let it finish.
    await after_commit_work_done()


async def _ingest(app: FastAPI, db: Database, symbol: str, frame: BarFrame) -> None:
    async with db.session() as session:
        await bar_service.ingest(
            session, symbol=symbol, timeframe=Timeframe.D1, frame=frame, cache=app.state.cache
        )
    await _committed()


@contextmanager
def _statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []
    listener = lambda *args: seen.append(str(args[2]))  # noqa: E731
    event.listen(db.engine.sync_engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", listener)


def _bar_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if "FROM bars" in s]


@pytest.fixture(autouse=True)
def frozen_freshness_clock() -> Iterator[None]:
    """Hit and miss answers are compared whole: `meta.age_seconds` must not tick between them."""
    now = time.time()
    with use_clock(lambda: now):
        yield


@pytest.fixture
async def two_symbols(db: Database) -> None:
    for symbol in ("TEST", "OTHER"):
        await create_instrument(db, symbol)
        await load_bars(db, symbol, FIRST)


@pytest.mark.usefixtures("two_symbols")
@pytest.mark.parametrize("name", list(READS))
async def test_reads_are_cached_until_new_bars_for_their_symbol(
    client: httpx.AsyncClient, app: FastAPI, db: Database, name: str
) -> None:
    template, headers = READS[name]
    test, other = template.format(symbol="test"), template.format(symbol="OTHER")
    status, first = await _read(client, test, headers)
    assert status == "miss"
    assert NEW_DAY not in str(first)
    with _statements(db) as statements:
        status, second = await _read(client, test, headers)
    assert status == "hit"
    assert second == first
    assert not _bar_reads(statements)  # served without reading the bars again
    status, other_first = await _read(client, other, headers)
    assert status == "miss"

    await _ingest(app, db, "TEST", LATER)

    status, fresh = await _read(client, test, headers)
    assert status == "miss"
    assert fresh != first and NEW_DAY in str(fresh)
    assert (await _read(client, test, headers)) == ("hit", fresh)
    assert (await _read(client, other, headers)) == ("hit", other_first)


@pytest.mark.usefixtures("two_symbols")
async def test_bars_meta_names_the_store_and_the_last_bar(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/bars/TEST?limit=3")
    meta = response.json()["meta"]
    assert meta["provider"] == STORE_PROVIDER
    assert meta["fallback_trace"] == []
    assert meta["as_of"] == "2024-01-30T00:00:00Z"
    assert meta["cache"] == response.headers["x-cache"] == "miss"
    assert meta["count"] == 3
    empty = (await client.get("/api/v1/bars/TEST?start=2030-01-01&end=2030-02-01")).json()
    assert empty["data"] == [] and empty["meta"]["as_of"] is None


@pytest.mark.usefixtures("two_symbols")
async def test_each_query_is_its_own_entry(client: httpx.AsyncClient) -> None:
    status, three = await _read(client, "/api/v1/bars/TEST?limit=3")
    assert status == "miss" and len(three["data"]) == 3
    status, five = await _read(client, "/api/v1/bars/TEST?limit=5")
    assert status == "miss" and len(five["data"]) == 5
    status, unix = await _read(client, "/api/v1/bars/TEST?limit=3&time_format=unix")
    assert status == "miss" and isinstance(unix["data"][0]["ts"], int)
    status, csv = await _read(client, "/api/v1/bars/TEST?limit=3", {"accept": "text/csv"})
    assert status == "miss" and csv.startswith("timestamp,")
    status, rsi = await _read(client, "/api/v1/indicators/TEST?set=rsi:5&limit=3")
    assert status == "miss" and "rsi_5" in rsi["data"]
    status, rsi7 = await _read(client, "/api/v1/indicators/TEST?set=rsi:7&limit=3")
    assert status == "miss" and "rsi_7" in rsi7["data"]
    assert await _read(client, "/api/v1/bars/TEST?limit=3") == ("hit", three)


@pytest.mark.usefixtures("two_symbols")
async def test_concurrent_reads_of_a_cold_key_read_the_bars_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    with _statements(db) as one:
        assert (await _read(client, "/api/v1/bars/TEST?limit=4"))[0] == "miss"
    with _statements(db) as many:
        answers = await asyncio.gather(
            *(_read(client, "/api/v1/bars/OTHER?limit=4") for _ in range(8))
        )
    assert len({str(body) for _, body in answers}) == 1
    assert len(_bar_reads(many)) == len(_bar_reads(one)) > 0


@pytest.mark.usefixtures("two_symbols")
async def test_errors_are_not_cached(client: httpx.AsyncClient, db: Database) -> None:
    assert (await client.get("/api/v1/bars/NEW")).status_code == 404
    await create_instrument(db, "NEW")
    await load_bars(db, "NEW", FIRST)
    assert (await _read(client, "/api/v1/bars/NEW?limit=2"))[0] == "miss"
    assert (await client.get("/api/v1/bars/TEST?limit=0")).status_code == 422


async def test_latest_signals_are_cached_until_bars_or_signals_change(
    client: httpx.AsyncClient, app: FastAPI, db: Database, settings: Settings
) -> None:
    window = goog_window()
    await create_instrument(db, "GOOG")
    await load_bars(db, "GOOG", window.slice(0, len(window) - 1))
    await create_signal(db, "OTHER")
    goog, other, every = (
        "/api/v1/signals/latest?symbol=goog",
        "/api/v1/signals/latest?symbol=OTHER",
        "/api/v1/signals/latest",
    )
    status, before = await _read(client, goog)
    assert status == "miss"
    assert await _read(client, goog) == ("hit", before)
    status, other_first = await _read(client, other)
    assert status == "miss" and [s["symbol"] for s in other_first["data"]] == ["OTHER"]
    status, every_first = await _read(client, every)
    assert status == "miss"

    # New bars for GOOG: its entry goes (its signals are about to change), the others stay.
    await _ingest(app, db, "GOOG", window.slice(len(window) - 1, len(window)))
    status, after_bars = await _read(client, goog)
    assert status == "miss" and after_bars == before
    assert await _read(client, other) == ("hit", other_first)
    assert await _read(client, every) == ("hit", every_first)

    # New signals: every latest-signals entry goes once they are committed.
    async with db.session() as session:
        created = await signal_service.generate(
            session, symbols=["GOOG"], now=after_close(window), settings=settings
        )
    assert created
    await _committed()
    status, fresh = await _read(client, goog)
    assert status == "miss"
    assert {s["id"] for s in fresh["data"]} == {s.id for s in created}
    status, every_fresh = await _read(client, every)
    assert status == "miss"
    assert {s["symbol"] for s in every_fresh["data"]} == {"GOOG", "OTHER"}
    assert await _read(client, every) == ("hit", every_fresh)


async def test_latest_signals_read_by_different_callers_share_one_entry(
    client: httpx.AsyncClient, db: Database
) -> None:
    await create_signal(db, "AAA")
    status, anonymous = await _read(client, "/api/v1/signals/latest")
    assert status == "miss"
    account = await create_user(db)
    tokens = await login(client, account)
    response = await client.get("/api/v1/signals/latest", headers=bearer(tokens))
    assert response.headers["x-cache"] == "hit"
    assert response.json() == anonymous


async def test_settled_signals_drop_the_cached_latest_signals(
    client: httpx.AsyncClient, db: Database
) -> None:
    # A signal on 2024-01-01's bar living 2 bars; the bars after it settle it (market time).
    await create_signal(db, "AAA", source_ts=START_2024, lifetime_bars=2)
    status, before = await _read(client, "/api/v1/signals/latest")
    assert status == "miss" and [s["status"] for s in before["data"]] == ["active"]
    bars = synthetic_bars(6)
    await load_bars(db, "AAA", bars)
    await _committed()
    async with db.session() as session:
        counts = await signal_service.evaluate(session, now=after_close(bars))
    assert sum(n for outcome, n in counts.items() if outcome != "active") >= 1
    await _committed()
    status, after = await _read(client, "/api/v1/signals/latest")
    assert status == "miss" and [s["status"] for s in after["data"]] != ["active"]
