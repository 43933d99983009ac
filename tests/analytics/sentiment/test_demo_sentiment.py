"""After `demo load` on a fresh database, GET /sentiment/{symbol} answers for each demo symbol
from the shipped news sample, naming its provider, with the window on its newest item."""

from __future__ import annotations

import httpx
import pytest

from quantdesk.db import Database
from quantdesk.marketdata.demo import load_demo
from quantdesk.marketdata.news.demo import load_demo_news
from tests.support.sentiment import SENTIMENT


@pytest.fixture
async def demo(db: Database) -> None:
    async with db.session() as session:
        await load_demo(session)
    async with db.session() as session:
        await load_demo_news(session)


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("symbol", ["GOOG", "EURUSD", "BTCUSD"])
async def test_demo_symbols_have_news_sentiment(client: httpx.AsyncClient, symbol: str) -> None:
    response = await client.get(f"{SENTIMENT}/{symbol}")
    assert response.status_code == 200, response.text
    body = response.json()
    data, meta = body["data"], body["meta"]
    # The sample is dated in the past: the window ends at its newest item and says so.
    assert meta["anchored"] == "latest_item"
    assert "newest stored item" in meta["hint"]
    assert meta["provider"].startswith("newsfile")
    assert data["counts"]["total"] >= 1
    assert data["score"] is not None and data["label"] is not None
    assert data["top_items"] and all("hits" in item for item in data["top_items"])
    # A window wide enough for the whole sample for this symbol.
    wide = (await client.get(f"{SENTIMENT}/{symbol}", params={"window": "90d"})).json()
    assert wide["data"]["counts"]["total"] >= data["counts"]["total"]
