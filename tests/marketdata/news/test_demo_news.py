"""`demo load`'s news: on a fresh database the shipped RSS sample answers GET /news?symbol=GOOG,
naming its source; loading again stores nothing new."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from quantdesk.cli import app as cli
from quantdesk.config import get_settings
from quantdesk.db import Database
from quantdesk.marketdata.demo import load_demo
from quantdesk.marketdata.news.demo import load_demo_news


async def test_demo_news_on_a_fresh_database(db: Database, client: httpx.AsyncClient) -> None:
    async with db.session() as session:
        await load_demo(session)
    async with db.session() as session:
        first = await load_demo_news(session)
    assert first == "news: 19 items stored from newsfile:news_sample.xml"
    async with db.session() as session:
        assert "already loaded" in await load_demo_news(session)

    body = (await client.get("/api/v1/news", params={"symbol": "GOOG"})).json()
    assert len(body["data"]) == 9 and body["meta"]["provider"] == "newsfile:news_sample.xml"
    newest = body["data"][0]
    assert newest["title"].startswith("Google shares top $1,000")
    assert newest["source"] == "quantdesk news sample" and newest["symbols"] == ["GOOG"]
    assert newest["sentiment"]["label"] == "positive"
    # Tagged from the text alone (no <category>): "EUR/USD" and "Bitcoin" in the words.
    for symbol in ("EURUSD", "BTCUSD"):
        items = (await client.get("/api/v1/news", params={"symbol": symbol})).json()["data"]
        assert len(items) >= 4 and all(symbol in item["symbols"] for item in items)


def test_cli_demo_load_stores_the_news_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`quantdesk demo load` itself, on a fresh SQLite file (what `make run` does)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'quantdesk.db'}"
    monkeypatch.setenv("QUANTDESK_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        loaded = CliRunner().invoke(cli, ["demo", "load"])
    finally:
        get_settings.cache_clear()
    assert loaded.exit_code == 0, loaded.output
    assert "news: 19 items stored from newsfile:news_sample.xml" in loaded.output
    with sqlite3.connect(tmp_path / "quantdesk.db") as connection:
        (goog,) = connection.execute(
            "SELECT count(*) FROM news_item_symbols WHERE symbol = 'GOOG'"
        ).fetchone()
    assert goog == 9
