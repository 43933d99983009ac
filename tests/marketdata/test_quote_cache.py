"""GET /quotes: served from the quotes cache, dropped when new bars are committed."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from quantdesk.db import Database
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.service import bar_service
from tests.support.factories import create_instrument, load_bars, synthetic_bars

FIRST = synthetic_bars(30, seed=3)
LATER = synthetic_bars(31, seed=4, price=250.0)  # one more day, other prices


async def _quote(client: httpx.AsyncClient) -> tuple[str, dict[str, object]]:
    response = await client.get("/api/v1/quotes/test")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["cache"] == response.headers["x-cache"]
    return response.headers["x-cache"], body


@pytest.fixture
async def quoted(db: Database) -> None:
    await create_instrument(db, "TEST")
    await load_bars(db, "TEST", FIRST)


async def test_second_read_is_a_hit_without_a_query(
    client: httpx.AsyncClient, db: Database, quoted: None
) -> None:
    status, first = await _quote(client)
    assert status == "miss"
    assert first["data"]["price"] == pytest.approx(FIRST.close[-1])  # type: ignore[index]
    assert first["meta"]["provider"] == first["data"]["source"]  # type: ignore[index]
    statements: list[str] = []
    listener = lambda *args: statements.append(str(args[2]))  # noqa: E731
    event.listen(db.engine.sync_engine, "before_cursor_execute", listener)
    try:
        status, second = await _quote(client)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", listener)
    assert status == "hit"
    assert second["data"] == first["data"]
    assert not [s for s in statements if "quotes" in s or "instruments" in s]


async def test_committed_new_bars_invalidate_the_cached_quote(
    client: httpx.AsyncClient, app: FastAPI, db: Database, quoted: None
) -> None:
    await _quote(client)
    async with db.session() as session:
        await bar_service.ingest(
            session, symbol="TEST", timeframe=Timeframe.D1, frame=LATER, cache=app.state.cache
        )
    await app.state.cache.wait_background()
    for _ in range(50):  # the invalidation runs as a task started at commit
        status, body = await _quote(client)
        if status == "miss":
            break
    assert status == "miss"
    assert body["data"]["price"] == pytest.approx(LATER.close[-1])  # type: ignore[index]


async def test_rolled_back_bars_leave_the_cache_alone(
    client: httpx.AsyncClient, app: FastAPI, db: Database, quoted: None
) -> None:
    await _quote(client)

    class Abort(Exception):
        pass

    async def ingest_then_fail() -> None:
        async with db.session() as session:
            await bar_service.ingest(
                session, symbol="TEST", timeframe=Timeframe.D1, frame=LATER, cache=app.state.cache
            )
            raise Abort

    with pytest.raises(Abort):
        await ingest_then_fail()
    status, body = await _quote(client)
    assert status == "hit"
    assert body["data"]["price"] == pytest.approx(FIRST.close[-1])  # type: ignore[index]


async def test_unknown_symbol_is_404_and_not_cached(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        response = await client.get("/api/v1/quotes/NOPE")
        assert response.status_code == 404
        assert "x-cache" not in response.headers
