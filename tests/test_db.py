"""The unit of work: committed on success, rolled back on error."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from quantdesk.db import Database
from quantdesk.marketdata.service import instrument_service
from quantdesk.models import Instrument
from tests.support.factories import instrument_data


async def count_instruments(db: Database) -> int:
    async with db.session() as session:
        return int(
            (await session.execute(select(func.count()).select_from(Instrument))).scalar_one()
        )


async def test_session_commits_on_success(db: Database) -> None:
    async with db.session() as session:
        await instrument_service.upsert(session, instrument_data("KEEP"))
    assert await count_instruments(db) == 1


async def test_session_rolls_back_on_error(db: Database) -> None:
    async def failing_unit_of_work() -> None:
        async with db.session() as session:
            await instrument_service.upsert(session, instrument_data("GONE"))
            raise RuntimeError("fails after the flush")

    with pytest.raises(RuntimeError, match="after the flush"):
        await failing_unit_of_work()
    assert await count_instruments(db) == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sqlite_runs_in_wal_mode(db: Database) -> None:
    async with db.engine.connect() as connection:
        mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
    assert mode == "wal"
