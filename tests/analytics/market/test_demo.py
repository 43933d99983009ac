"""A fresh install answers: `demo load` ends with market.refresh over the demo data, and a
serving process builds a missing overview at start-up."""

from __future__ import annotations

import asyncio
from datetime import date

import httpx
import pytest
from asgi_lifespan import LifespanManager

from quantdesk.analytics.market.demo import refresh_demo_market
from quantdesk.app import create_app
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.marketdata.demo import load_demo
from quantdesk.research.demo import load_research_demo
from tests.support.jobs import job_runs
from tests.support.market import add_daily
from tests.support.settings import make_settings

GOOG_LAST_CLOSE, GOOG_PREVIOUS_CLOSE = 806.19, 801.2  # backtesting's GOOG.csv, 2013-03-01 and 02-28
GOOG_FY2012_DILUTED_EPS = 32.31  # the research demo's fundamentals sample


async def test_demo_data_fills_the_overview_and_the_screener(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    async with db.session() as session:
        await load_demo(session)
        await load_research_demo(session)
    async with db.session() as session:
        message = await refresh_demo_market(session, settings)
    assert message.startswith("market overview: 2 of 3 instruments")  # BTCUSD: monthly bars

    goog = (await client.get("/api/v1/instruments/GOOG")).json()["data"]
    assert (goog["sector"], goog["industry"], goog["country"]) == (
        "Communication Services",
        "Internet Content & Information",
        "US",
    )
    summary = (await client.get("/api/v1/market/summary")).json()
    assert summary["meta"]["provider"].startswith("quantdesk: computed from stored bars")
    by_class = {row["asset_class"]: row for row in summary["data"]}
    assert by_class["equity"]["as_of"] == "2013-03-01" and by_class["equity"]["gainers"] == 1
    assert by_class["fx"]["as_of"] == "2018-02-07"
    movers = (await client.get("/api/v1/market/movers?kind=gainers&asset_class=equity")).json()
    (mover,) = movers["data"]
    assert mover["symbol"] == "GOOG"
    assert mover["change_pct"] == pytest.approx((GOOG_LAST_CLOSE / GOOG_PREVIOUS_CLOSE - 1) * 100)
    sectors = (await client.get("/api/v1/market/sectors")).json()["data"]
    assert [row["sector"] for row in sectors] == ["Communication Services"]
    screened = (
        await client.post(
            "/api/v1/screener", json={"filters": [{"field": "pe", "op": "gt", "value": 0}]}
        )
    ).json()["data"]
    assert [row["symbol"] for row in screened] == ["GOOG"]
    assert screened[0]["pe"] == pytest.approx(GOOG_LAST_CLOSE / GOOG_FY2012_DILUTED_EPS)
    assert screened[0]["rsi_14"] is not None and screened[0]["sma_200_distance_pct"] is not None


async def test_a_serving_process_builds_a_missing_overview_at_start(
    db: Database, database_url: str
) -> None:
    await add_daily(db, "UPP", date(2024, 3, 15), [10, 11])
    serving = make_settings(database_url, jobs_scheduler_enabled=True)
    app = create_app(serving)
    async with LifespanManager(app):
        for _ in range(200):
            runs = await job_runs(app.state.db, "market.refresh")
            if runs and runs[0].status.value == "succeeded":
                break
            await asyncio.sleep(0.05)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            body = (await client.get("/api/v1/market/summary")).json()
    assert [row["gainers"] for row in body["data"]] == [1]
    # Started again with a snapshot in place: nothing queued.
    app = create_app(serving)
    async with LifespanManager(app):
        assert len(await job_runs(app.state.db, "market.refresh")) == 1
