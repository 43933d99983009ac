"""Backtest test fixtures: the demo's genuine GOOG daily bars, signed-in callers, polling."""

from __future__ import annotations

import asyncio
from importlib.resources import as_file, files
from typing import Any

import httpx
import pytest

from quantdesk.access.scopes import Role
from quantdesk.db import Database
from quantdesk.engine.backtest import Bars
from quantdesk.marketdata import frames
from quantdesk.marketdata.demo import DEMO_SERIES
from quantdesk.marketdata.service import bar_service, instrument_service
from tests.support.accounts import bearer, create_user, login

GOOG = DEMO_SERIES[0]


def goog_frame() -> frames.BarFrame:
    with as_file(files("backtesting.test") / GOOG.resource) as path:
        return frames.read_csv(path, name=GOOG.resource)


def goog_bars() -> Bars:
    frame = goog_frame()
    return Bars.of(frame.open, frame.high, frame.low, frame.close, frame.volume, frame.ts)


@pytest.fixture
async def goog(db: Database) -> Bars:
    """GOOG daily (2004-2013) stored as `quantdesk demo load` stores it; its bars returned."""
    frame = goog_frame()
    async with db.session() as session:
        await instrument_service.upsert(session, GOOG.instrument)
        await bar_service.ingest(session, symbol="GOOG", timeframe=GOOG.timeframe, frame=frame)
    return goog_bars()


async def signed_in(client: httpx.AsyncClient, db: Database, role: Role) -> dict[str, str]:
    return bearer(await login(client, await create_user(db, role)))


@pytest.fixture
async def premium(client: httpx.AsyncClient, db: Database) -> dict[str, str]:
    """Headers of a premium user (exempt from the 3-per-hour backtests-create policy)."""
    return await signed_in(client, db, Role.PREMIUM)


async def wait_for(client: httpx.AsyncClient, run_id: str, headers: dict[str, str]) -> Any:
    """Poll GET /backtests/{id} until the run has finished; its final body."""
    for _ in range(600):
        response = await client.get(f"/api/v1/backtests/{run_id}", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] in ("queued", "running", "completed", "failed")
        if body["status"] in ("completed", "failed"):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish")
