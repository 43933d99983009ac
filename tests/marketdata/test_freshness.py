"""`meta.stale` and `meta.age_seconds`: market data aged against the (injected) wall clock."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from quantdesk.db import Database
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.freshness import (
    DAY,
    HOUR,
    bars_interval,
    freshness,
    quote_interval,
    use_clock,
    weekday_seconds,
)
from quantdesk.models import AssetClass
from tests.support.factories import create_instrument, load_bars, synthetic_bars


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_weekends_are_not_market_time_except_for_crypto() -> None:
    friday_close, monday_noon = int(at("2024-01-05T21:00:00")), int(at("2024-01-08T12:00:00"))
    assert weekday_seconds(friday_close, monday_noon) == 3 * HOUR + 12 * HOUR
    assert weekday_seconds(monday_noon, friday_close) == 0
    assert weekday_seconds(0, 7 * DAY) == 5 * DAY  # any whole week
    equity = freshness(friday_close, interval=DAY, weekends=False, now=monday_noon)
    assert equity.age_seconds == monday_noon - friday_close and not equity.stale
    crypto = freshness(friday_close, interval=HOUR, weekends=True, now=monday_noon)
    assert crypto.stale


def test_expected_intervals_follow_asset_class_and_timeframe() -> None:
    assert quote_interval(AssetClass.EQUITY) == DAY
    assert quote_interval(AssetClass.CRYPTO) == quote_interval(AssetClass.FX) == HOUR
    assert bars_interval(AssetClass.EQUITY, Timeframe.M1) == DAY  # sessions leave nights out
    assert bars_interval(AssetClass.CRYPTO, Timeframe.M1) == 60
    assert bars_interval(AssetClass.EQUITY, Timeframe.W1) == 7 * DAY


@pytest.fixture
async def old_and_new(db: Database) -> None:
    """GOOG: daily bars ending 2013-12-31 (like the demo); BTCUSD: hourly bars, crypto."""
    await create_instrument(db, "GOOG")
    await load_bars(db, "GOOG", synthetic_bars(5, start=int(at("2013-12-27T00:00:00"))))
    await create_instrument(db, "BTCUSD", asset_class=AssetClass.CRYPTO, exchange="CRYPTO")
    hourly = synthetic_bars(48, start=int(at("2024-03-01T00:00:00")), step=HOUR)
    await load_bars(db, "BTCUSD", hourly, Timeframe.H1)


@pytest.mark.usefixtures("old_and_new")
async def test_a_quote_from_2013_is_marked_stale(client: httpx.AsyncClient) -> None:
    now = at("2024-06-03T00:00:00")
    with use_clock(lambda: now):
        meta = (await client.get("/api/v1/quotes/GOOG")).json()["meta"]
    assert meta["as_of"] == "2013-12-31T00:00:00Z"
    assert meta["stale"] is True
    assert meta["age_seconds"] == int(now - at("2013-12-31T00:00:00"))


@pytest.mark.usefixtures("old_and_new")
async def test_a_cached_quote_ages_with_the_clock(client: httpx.AsyncClient) -> None:
    last_bar = at("2024-03-02T23:00:00")  # BTCUSD's last hourly bar
    with use_clock(lambda: last_bar + 2 * HOUR):
        first = await client.get("/api/v1/quotes/BTCUSD")
    with use_clock(lambda: last_bar + 4 * HOUR):
        second = await client.get("/api/v1/quotes/BTCUSD")
    assert first.headers["x-cache"] == "miss" and second.headers["x-cache"] == "hit"
    assert first.json()["meta"]["stale"] is False
    assert first.json()["meta"]["age_seconds"] == 2 * HOUR
    # Crypto trades 24/7: three expected (hourly) updates missed is stale, weekend or not.
    assert second.json()["meta"]["stale"] is True
    assert second.json()["meta"]["age_seconds"] == 4 * HOUR
