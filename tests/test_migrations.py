"""Migrations: upgrade to head, models match (`alembic check`), down to base, up again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect

from quantdesk import migrate
from quantdesk.db import create_engine
from quantdesk.models import Base
from tests.support.servers import PostgresServer
from tests.support.settings import sqlite_url


def _tables(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                names = await connection.run_sync(lambda c: inspect(c).get_table_names())
        finally:
            await engine.dispose()
        return set(names)

    return asyncio.run(read())


def _round_trip(url: str) -> None:
    model_tables = {table.name for table in Base.metadata.sorted_tables}
    migrate.upgrade(url)
    assert model_tables <= _tables(url)
    migrate.check(url)  # raises when models and migrations disagree
    migrate.downgrade(url, "base")
    assert _tables(url) & model_tables == set()
    migrate.upgrade(url)
    assert model_tables <= _tables(url)
    migrate.check(url)


def test_sqlite_migrations_round_trip(tmp_path: Path) -> None:
    _round_trip(sqlite_url(tmp_path / "migrations.db"))


@pytest.mark.postgres
def test_postgres_migrations_round_trip(postgres_server: PostgresServer) -> None:
    postgres_server.create_database("quantdesk_migrations")
    _round_trip(postgres_server.url("quantdesk_migrations"))


def test_migration_files_have_date_slug_names() -> None:
    from importlib.resources import files

    names = [p.name for p in (files("quantdesk") / "migrations" / "versions").iterdir()]
    revisions = [n for n in names if n.endswith(".py") and not n.startswith("__")]
    assert revisions
    for name in revisions:
        date, _, rest = name.partition("-")
        assert len(date.split("_")) == 4, name  # YYYY_MM_DD_HHMM
        assert "_" in rest, name  # <rev>_<slug>
