"""Backtest test fixtures: the demo's genuine GOOG daily bars stored, signed-in callers.
Helpers shared by the test modules are in tests/support/backtests.py."""

from __future__ import annotations

import httpx
import pytest

from quantdesk.access.scopes import Role
from quantdesk.db import Database
from quantdesk.engine.backtest import Bars
from quantdesk.marketdata.service import bar_service, instrument_service
from tests.support.backtests import GOOG, goog_bars, goog_frame, signed_in


@pytest.fixture
async def goog(db: Database) -> Bars:
    """GOOG daily (2004-2013) stored as `quantdesk demo load` stores it; its bars returned."""
    frame = goog_frame()
    async with db.session() as session:
        await instrument_service.upsert(session, GOOG.instrument)
        await bar_service.ingest(session, symbol="GOOG", timeframe=GOOG.timeframe, frame=frame)
    return goog_bars()


@pytest.fixture
async def premium(client: httpx.AsyncClient, db: Database) -> dict[str, str]:
    """Headers of a premium user (exempt from the 3-per-hour backtests-create policy)."""
    return await signed_in(client, db, Role.PREMIUM)
