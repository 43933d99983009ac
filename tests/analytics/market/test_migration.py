"""The market overview migration: PostgreSQL gets materialized views with the unique index
REFRESH ... CONCURRENTLY needs, SQLite gets tables; both go down and up again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from quantdesk import migrate
from quantdesk.db import create_engine
from tests.support.servers import PostgresServer
from tests.support.settings import sqlite_url

REVISION, PREVIOUS = "a6d7f4e83c15", "9c5e3a72b0d4"
DERIVED = {"market_summary", "market_sectors", "market_movers"}


def _query(url: str, sql: str) -> set[tuple[object, ...]]:
    async def run() -> set[tuple[object, ...]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return {tuple(row) for row in await connection.execute(text(sql))}
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _round_trip(url: str, listing: str) -> set[tuple[object, ...]]:
    migrate.upgrade(url, REVISION)
    migrate.downgrade(url, PREVIOUS)
    assert {row[0] for row in _query(url, listing)} & DERIVED == set()
    migrate.upgrade(url, REVISION)
    return _query(url, listing)


def test_sqlite_has_tables(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "market.db")
    found = _round_trip(url, "SELECT name FROM sqlite_master WHERE type = 'table'")
    assert {row[0] for row in found} >= DERIVED


@pytest.mark.postgres
def test_postgres_has_unpopulated_views_with_unique_indexes(
    postgres_server: PostgresServer,
) -> None:
    postgres_server.create_database("quantdesk_market_migration")
    url = postgres_server.url("quantdesk_market_migration")
    views = _round_trip(url, "SELECT matviewname, ispopulated FROM pg_matviews")
    assert {(name, False) for name in DERIVED} <= views
    unique = _query(
        url,
        "SELECT tablename FROM pg_indexes WHERE indexdef LIKE 'CREATE UNIQUE INDEX ux_market_%'",
    )
    assert {row[0] for row in unique} == DERIVED
