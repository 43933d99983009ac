"""`reports.generate` for a watchlist, `quantdesk report GOOG`, and the 503 without a model."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from quantdesk.access.scopes import Role
from quantdesk.cli import app as cli
from quantdesk.config import Settings, get_settings
from quantdesk.db import Database
from quantdesk.jobs.registry import JobContext
from quantdesk.marketdata.demo import load_demo
from quantdesk.models import Watchlist, WatchlistItem
from quantdesk.research.demo import load_research_demo
from quantdesk.research.tasks import generate_reports
from tests.support.accounts import bearer, create_user, login


async def test_reports_generate_writes_a_watchlists_reports(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    account = await create_user(db)
    async with db.session() as session:
        await load_demo(session)
        await load_research_demo(session)
        session.add(Watchlist(id="wl1", user_id=account.id, name="research"))
        await session.flush()
        for symbol in ("GOOG", "BTCUSD", "NOPE"):
            session.add(WatchlistItem(watchlist_id="wl1", symbol=symbol))

    async def no_follow_ups(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("no follow-up job expected")

    settings.research_reports_dir = tmp_path / "reports"
    context = JobContext(
        db=db,
        settings=settings,
        name="reports.generate",
        task_id=uuid.uuid4().hex,
        attempt=1,
        enqueue=no_follow_ups,
    )
    result = await generate_reports(context, watchlist_id="wl1", formats=["md", "pdf"])
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [
        "BTCUSD.md",
        "BTCUSD.pdf",
        "GOOG.md",
        "GOOG.pdf",
    ]
    assert [skipped["subject"] for skipped in result.skipped] == ["NOPE"]
    assert "## Fundamentals" in (tmp_path / "reports" / "GOOG.md").read_text()


async def test_without_a_model_the_chat_says_how_to_configure_one(
    db: Database, client: httpx.AsyncClient
) -> None:
    async with db.session() as session:
        await load_demo(session)
    headers = bearer(await login(client, await create_user(db, Role.PREMIUM)))
    answer = await client.post(
        "/api/v1/ai/chat", json={"symbol": "GOOG", "question": "?"}, headers=headers
    )
    assert answer.status_code == 503
    assert "QUANTDESK_RESEARCH_LLM_URL" in answer.json()["detail"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_quantdesk_report_writes_the_file(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANTDESK_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        loaded = runner.invoke(cli, ["demo", "load"])
        assert loaded.exit_code == 0, loaded.output
        assert "fundamentals: 3 periods" in loaded.output
        written = runner.invoke(cli, ["report", "GOOG", "--format", "html"])
        assert written.exit_code == 0, written.output
        assert "<h2>Fundamentals</h2>" in (tmp_path / "GOOG-report.html").read_text()
        missing = runner.invoke(cli, ["report", "NOPE"])
        assert missing.exit_code == 1
    finally:
        get_settings.cache_clear()
