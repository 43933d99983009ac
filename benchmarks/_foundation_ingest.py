"""The foundation benchmark's ingest runs: quantdesk's bulk path against raw-driver writes.

quantdesk validates every symbol's arrays (`frames.frame_from_arrays`) and ingests them through
`bar_service.ingest`, one unit of work per symbol; the references write the same prebuilt rows
in one transaction, stdlib `sqlite3` `executemany` (SQLite) or asyncpg binary COPY
(PostgreSQL). `run_ingest` interleaves both on fresh migrated databases from a `Backend` and
keeps the last database quantdesk loaded for the serving runs.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import sqlalchemy
from tests.support.servers import PostgresServer

from benchmarks._foundation_data import (
    SQLITE_PRAGMAS,
    SYMBOLS,
    TIMEFRAME,
    Row,
    Series,
    Timings,
    expected_ids,
    instrument,
    settings_for,
    sqlite_url,
)
from quantdesk import migrate
from quantdesk.db import Database
from quantdesk.marketdata import frames
from quantdesk.marketdata.service import bar_service, instrument_service

COLUMNS = ("instrument_id", "timeframe", "ts", "open", "high", "low", "close", "volume")
SQLITE_INSERT = "INSERT INTO bars ({}) VALUES ({})".format(
    ", ".join(COLUMNS), ", ".join("?" * len(COLUMNS))
)


async def create_instruments(db: Database) -> dict[str, int]:
    ids: dict[str, int] = {}
    async with db.session() as session:
        for symbol in SYMBOLS:
            ids[symbol] = (await instrument_service.upsert(session, instrument(symbol))).id
    return ids


async def count_bars(db: Database) -> int:
    async with db.session() as session:
        result = await session.execute(sqlalchemy.text("SELECT count(*) FROM bars"))
        return int(result.scalar_one())


async def quantdesk_ingest(url: str, data: Sequence[Series]) -> float:
    """Validate + ingest every symbol, one unit of work per symbol (as `quantdesk ingest-csv`
    does per file). Engine, connection pool and instruments are set up before the clock."""
    db = Database(settings_for(url))
    try:
        assert await create_instruments(db) == expected_ids()
        started = time.perf_counter()
        for series in data:
            frame = frames.frame_from_arrays(
                series.ts, series.open, series.high, series.low, series.close, series.volume
            )
            async with db.session() as session:
                await bar_service.ingest(
                    session, symbol=series.symbol, timeframe=TIMEFRAME, frame=frame
                )
        elapsed = time.perf_counter() - started
        expected = sum(len(series.ts) for series in data)
        assert await count_bars(db) == expected, "quantdesk ingest lost rows"
        return elapsed
    finally:
        await db.dispose()


async def prepare_reference(url: str) -> None:
    db = Database(settings_for(url))
    try:
        assert await create_instruments(db) == expected_ids()
    finally:
        await db.dispose()


def sqlite_reference_ingest(path: Path, rows: list[Row]) -> float:
    """Raw stdlib sqlite3: executemany of every row in one transaction, then commit."""
    asyncio.run(prepare_reference(sqlite_url(path)))
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in SQLITE_PRAGMAS:
            connection.execute(pragma)
        started = time.perf_counter()
        connection.execute("BEGIN")
        connection.executemany(SQLITE_INSERT, rows)
        connection.execute("COMMIT")
        elapsed = time.perf_counter() - started
        (count,) = connection.execute("SELECT count(*) FROM bars").fetchone()
        assert count == len(rows), "reference ingest lost rows"
        return elapsed
    finally:
        connection.close()


async def postgres_reference_ingest(url: str, dsn: str, rows: list[Row]) -> float:
    """Raw asyncpg binary COPY of every row in one transaction."""
    await prepare_reference(url)
    connection = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        async with connection.transaction():
            await connection.copy_records_to_table("bars", records=rows, columns=COLUMNS)
        elapsed = time.perf_counter() - started
        assert await connection.fetchval("SELECT count(*) FROM bars") == len(rows)
        return elapsed
    finally:
        await connection.close()


@dataclass(frozen=True)
class Backend:
    """Where fresh, migrated databases come from (SQLite files or a PostgreSQL server)."""

    name: str
    tmp: Path
    postgres: PostgresServer | None = None

    def fresh(self, label: str) -> str:
        """A new, migrated database; returns its SQLAlchemy URL."""
        if self.postgres is None:
            path = self.tmp / f"{label}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            url = sqlite_url(path)
        else:
            self.postgres.create_database(label)
            url = self.postgres.url(label)
        migrate.upgrade(url)
        return url

    def dsn(self, label: str) -> str:
        assert self.postgres is not None
        return self.postgres.url(label, driver="")

    def drop(self, label: str) -> None:
        if self.postgres is None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.tmp / label}.db{suffix}").unlink(missing_ok=True)
        else:
            self.postgres.drop_database(label)


def run_ingest(
    backend: Backend, data: Sequence[Series], rows: list[Row], repeats: int
) -> tuple[Timings, str]:
    """Warm up once on a small slice, then `repeats` interleaved runs on fresh databases.
    Returns the timings and the label of a database quantdesk loaded (kept for serving)."""
    warm = [series.head(5_000) for series in data[:2]]
    warm_rows = [row for series in warm for row in series.rows(expected_ids()[series.symbol])]

    def quantdesk(label: str, subset: Sequence[Series]) -> float:
        return asyncio.run(quantdesk_ingest(backend.fresh(label), subset))

    def reference(label: str, subset: list[Row]) -> float:
        url = backend.fresh(label)
        if backend.postgres is None:
            return sqlite_reference_ingest(backend.tmp / f"{label}.db", subset)
        return asyncio.run(postgres_reference_ingest(url, backend.dsn(label), subset))

    quantdesk("qd_warm", warm)
    reference("ref_warm", warm_rows)
    backend.drop("qd_warm")
    backend.drop("ref_warm")

    timings = Timings([], [])
    kept = ""
    for attempt in range(repeats):
        label, reference_label = f"qd_ingest_{attempt}", f"ref_ingest_{attempt}"

        def run_quantdesk(label: str = label) -> None:
            timings.quantdesk.append(quantdesk(label, data))

        def run_reference(label: str = reference_label) -> None:
            timings.reference.append(reference(label, rows))

        runs = [run_quantdesk, run_reference]
        if attempt % 2:  # alternate who goes first so drift hits both
            runs.reverse()
        for run in runs:
            gc.collect()
            run()
        backend.drop(reference_label)
        if kept:
            backend.drop(kept)
        kept = label
        print(
            f"  {backend.name} ingest run {attempt + 1}/{repeats}: "
            f"quantdesk {timings.quantdesk[-1]:.2f} s, reference {timings.reference[-1]:.2f} s",
            flush=True,
        )
    return timings, kept
