"""QUANTDESK_DATABASE_READ_URL: the hot public reads go to a read replica, writes to the primary.

Against a real PostgreSQL streaming replica (tests/support/postgres_replica.py): with the
standby's replay paused, a bar committed on the primary is invisible to the read endpoints,
which proves they query the standby; once replay resumes, they show it.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text

from quantdesk import migrate
from quantdesk.app import create_app
from quantdesk.db import Database
from tests.support.factories import START_2024, create_instrument, load_bars, synthetic_bars
from tests.support.postgres_replica import (
    ReplicaPair,
    pause_replay,
    resume_replay,
    running_replica_pair,
    wait_for_replay,
)
from tests.support.settings import make_settings, sqlite_url, start_or_skip

DAY = 86_400
DATABASE = "quantdesk_replica"
# What the read endpoints show before and after the sixth daily bar (2024-01-06) and a second
# instrument are replayed: bars, coverage, instruments listed, indicator rows, quote's day.
FIVE = {"bars": 5, "coverage": 5, "listed": 1, "indicator_rows": 5, "quote_day": 5}
SIX = {"bars": 6, "coverage": 6, "listed": 2, "indicator_rows": 6, "quote_day": 6}


def test_without_a_read_url_the_replica_is_the_primary(tmp_path: Path) -> None:
    database = Database(make_settings(sqlite_url(tmp_path / "a.db")))
    assert database.replica is database
    # compose passes ${QUANTDESK_DATABASE_READ_URL:-}: empty means none
    empty = Database(make_settings(sqlite_url(tmp_path / "a.db"), database_read_url=""))
    assert empty.replica is empty


async def test_a_read_url_gets_its_own_engine(tmp_path: Path) -> None:
    primary, replica = sqlite_url(tmp_path / "a.db"), sqlite_url(tmp_path / "b.db")
    database = Database(make_settings(primary, database_read_url=replica))
    try:
        assert database.replica is not database
        assert database.replica.url == replica and database.url == primary
        assert database.replica.replica is database.replica
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
def replica_pair() -> Iterator[ReplicaPair]:
    with contextlib.ExitStack() as stack:
        pair = start_or_skip(stack, running_replica_pair())
        pair.primary.create_database(DATABASE)
        migrate.upgrade(pair.primary.url(DATABASE))
        wait_for_replay(pair)
        yield pair


@pytest.fixture
async def split_app(replica_pair: ReplicaPair) -> AsyncIterator[FastAPI]:
    settings = make_settings(
        replica_pair.primary.url(DATABASE),
        database_read_url=replica_pair.standby.url(DATABASE),
        cache_enabled=False,  # every read reaches the database
    )
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.mark.postgres
async def test_reads_go_to_the_standby_and_writes_to_the_primary(
    replica_pair: ReplicaPair, split_app: FastAPI
) -> None:
    db: Database = split_app.state.db
    async with db.engine.connect() as primary, db.replica.engine.connect() as replica:
        assert (await primary.scalar(text("SELECT pg_is_in_recovery()"))) is False
        assert (await replica.scalar(text("SELECT pg_is_in_recovery()"))) is True

    await create_instrument(db, "RPL")
    await load_bars(db, "RPL", synthetic_bars(5, start=START_2024))
    wait_for_replay(replica_pair)

    transport = httpx.ASGITransport(app=split_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:

        async def seen() -> dict[str, int]:
            bars = (await client.get("/api/v1/bars/RPL")).json()["meta"]["count"]
            detail = (await client.get("/api/v1/instruments/RPL")).json()["data"]
            listed = (await client.get("/api/v1/instruments?q=RPL")).json()["meta"]["count"]
            indicator = (await client.get("/api/v1/indicators/RPL?set=sma:2")).json()
            quote = (await client.get("/api/v1/quotes/RPL")).json()["data"]
            return {
                "quote_day": int(quote["as_of"][8:10]),
                "bars": bars,
                "coverage": detail["coverage"][0]["bars"],
                "listed": listed,
                "indicator_rows": len(indicator["data"]["t"]),
            }

        assert await seen() == FIVE

        pause_replay(replica_pair.standby)
        try:
            await load_bars(db, "RPL", synthetic_bars(1, start=START_2024 + 5 * DAY, seed=9))
            await create_instrument(db, "RPLB")
            async with db.session() as session:  # the primary has them
                count = "SELECT count(*) FROM bars"
                assert await session.scalar(text(count)) == 6
            # the read endpoints answer from the standby, which has not replayed them yet
            assert await seen() == FIVE
        finally:
            resume_replay(replica_pair.standby)
        wait_for_replay(replica_pair)
        assert await seen() == SIX


@pytest.mark.parametrize("replica_ready", [True, False])
async def test_readiness_needs_the_replica(
    tmp_path: Path, sqlite_template: Path, replica_ready: bool
) -> None:
    primary = tmp_path / "primary.db"
    shutil.copyfile(sqlite_template, primary)
    replica = primary if replica_ready else tmp_path / "unmigrated.db"
    settings = make_settings(sqlite_url(primary), database_read_url=sqlite_url(replica))
    application = create_app(settings)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            ready = await client.get("/health/ready")
            report = (await client.get("/health")).json()
    components = report["components"]
    assert components["database"]["status"] == "ok"
    if replica_ready:
        assert ready.status_code == 200
        assert components["database_replica"]["status"] == "ok"
    else:
        assert ready.status_code == 503
        assert list(ready.json()["failing"]) == ["database_replica"]
        assert components["database_replica"]["status"] == "down"
