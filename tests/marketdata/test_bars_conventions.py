"""GET /bars conventions: the default timeframe, period-start stamps of weekly and monthly
bars, and the freshness of the last bar."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import numpy as np
import pytest

from quantdesk.db import Database
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.freshness import DAY, use_clock
from quantdesk.marketdata.service import BarsRejected, bar_service
from quantdesk.models import AssetClass
from tests.support.factories import create_instrument, load_bars, synthetic_bars


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


MONTH_ENDS = ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]
MONTH_STARTS = ["2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"]


def month_end_bars() -> BarFrame:
    """Monthly bars stamped at the last day of each month, as the demo's BTCUSD file is."""
    shape = synthetic_bars(len(MONTH_ENDS))
    stamps = np.array([epoch(day) for day in MONTH_ENDS], dtype=np.int64)
    return BarFrame(stamps, shape.open, shape.high, shape.low, shape.close, shape.volume)


@pytest.fixture
async def btc(db: Database) -> None:
    await create_instrument(db, "BTCUSD", asset_class=AssetClass.CRYPTO, exchange="CRYPTO")
    await load_bars(db, "BTCUSD", month_end_bars(), Timeframe.MN1)


@pytest.mark.usefixtures("btc")
async def test_without_a_timeframe_the_finest_stored_one_answers(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/bars/BTCUSD")
    assert response.status_code == 200, response.text
    meta = response.json()["meta"]
    assert meta["timeframe"] == "1M" and meta["resampled"] is False
    assert meta["count"] == len(MONTH_ENDS)


async def test_without_bars_and_timeframe_the_answer_is_422(
    client: httpx.AsyncClient, db: Database
) -> None:
    await create_instrument(db, "EMPTY")
    response = await client.get("/api/v1/bars/EMPTY")
    assert response.status_code == 422, response.text


@pytest.mark.usefixtures("btc")
async def test_stored_monthly_bars_are_stamped_like_resampled_ones(
    client: httpx.AsyncClient, db: Database
) -> None:
    stored = (await client.get("/api/v1/bars/BTCUSD?timeframe=1M")).json()["data"]
    assert [bar["ts"] for bar in stored][:3] == MONTH_STARTS
    await create_instrument(db, "ETHUSD", asset_class=AssetClass.CRYPTO, exchange="CRYPTO")
    await load_bars(db, "ETHUSD", synthetic_bars(91, start=epoch("2024-01-01")))
    resampled = (await client.get("/api/v1/bars/ETHUSD?timeframe=1M")).json()["data"]
    assert [bar["ts"] for bar in resampled] == MONTH_STARTS


async def test_two_bars_of_one_month_are_refused(db: Database) -> None:
    await create_instrument(db, "BTCUSD", asset_class=AssetClass.CRYPTO, exchange="CRYPTO")
    bars = month_end_bars()
    twice = BarFrame(
        np.array([epoch("2024-01-01"), epoch("2024-01-31")], dtype=np.int64),
        *(column[:2] for column in bars.columns()[1:]),
    )
    async with db.session() as session:
        with pytest.raises(BarsRejected, match="timestamps must strictly increase"):
            await bar_service.ingest(session, symbol="BTCUSD", timeframe=Timeframe.MN1, frame=twice)


@pytest.mark.usefixtures("btc")
async def test_bars_meta_ages_the_last_bar_against_the_clock(client: httpx.AsyncClient) -> None:
    last = epoch("2024-04-01")
    with use_clock(lambda: last + 40 * DAY):
        fresh = await client.get("/api/v1/bars/BTCUSD?format=columns")
    with use_clock(lambda: last + 100 * DAY):
        old = await client.get("/api/v1/bars/BTCUSD?format=columns")
    assert old.headers["x-cache"] == "hit"
    assert fresh.json()["meta"]["stale"] is False
    assert fresh.json()["meta"]["age_seconds"] == 40 * DAY
    # Three 31-day months of market time have passed (crypto counts weekends).
    assert old.json()["meta"]["stale"] is True
    assert old.json()["meta"]["age_seconds"] == 100 * DAY
    assert old.json()["meta"]["cache"] == "hit"
