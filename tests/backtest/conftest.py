"""Backtest test fixtures: the demo's genuine GOOG daily bars stored, signed-in callers.
Helpers shared by the test modules are in tests/support/backtests.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from quantdesk.access.scopes import Role
from quantdesk.cli import app as cli
from quantdesk.config import get_settings
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


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A development SQLite file migrated and loaded by the CLI itself (`demo load`)."""
    folder = tmp_path_factory.mktemp("cli")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QUANTDESK_DATABASE_URL", f"sqlite+aiosqlite:///{folder / 'quantdesk.db'}")
        patch.setenv("QUANTDESK_REPORTS_DIR", str(folder / "reports"))
        get_settings.cache_clear()
        loaded = CliRunner().invoke(cli, ["demo", "load"])
        assert loaded.exit_code == 0, loaded.output
        yield folder
    get_settings.cache_clear()


@pytest.fixture
def in_demo(demo_database: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The CLI pointed at the demo database; reports go to its `reports` folder."""
    monkeypatch.setenv(
        "QUANTDESK_DATABASE_URL", f"sqlite+aiosqlite:///{demo_database}/quantdesk.db"
    )
    monkeypatch.setenv("QUANTDESK_REPORTS_DIR", str(demo_database / "reports"))
    get_settings.cache_clear()
    yield demo_database
    get_settings.cache_clear()
