"""SQL for instruments, bars and quotes. Bulk bar writes use each driver's fastest path:
SQLite `executemany` of an upsert, PostgreSQL binary `COPY`."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Any

import asyncpg
import numpy as np
import numpy.typing as npt
from sqlalchemy import bindparam, func, literal, or_, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from quantdesk.kit.repository import Repository
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.frames import BarFrame
from quantdesk.models import AssetClass, Bar, Instrument, Quote

# Hand-written SQL for the bulk paths, assembled from these constants only (never from input).
BAR_COLUMNS = ("instrument_id", "timeframe", "ts", "open", "high", "low", "close", "volume")
_COLUMN_LIST = ", ".join(BAR_COLUMNS)
_ON_CONFLICT_UPDATE = "ON CONFLICT (instrument_id, timeframe, ts) DO UPDATE SET " + ", ".join(
    f"{c} = excluded.{c}" for c in ("open", "high", "low", "close", "volume")
)
_SQLITE_INSERT = f"INSERT INTO bars ({_COLUMN_LIST}) VALUES ({', '.join('?' * len(BAR_COLUMNS))})"  # noqa: S608
_SQLITE_UPSERT = f"{_SQLITE_INSERT} {_ON_CONFLICT_UPDATE}"
_PG_MERGE_STAGING = (
    f"INSERT INTO bars ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM bars_staging "  # noqa: S608
    + _ON_CONFLICT_UPDATE
)


_COLUMNS = ("ts", "open", "high", "low", "close", "volume")
_READ_CHUNK_ROWS = 4_096


@dataclass(frozen=True)
class TimeframeCoverage:
    timeframe: Timeframe
    count: int
    first_ts: int
    last_ts: int


class InstrumentRepository(Repository[Instrument]):
    model = Instrument

    async def by_symbol(self, symbol: str) -> Instrument | None:
        result = await self.session.execute(select(Instrument).where(Instrument.symbol == symbol))
        return result.scalar_one_or_none()

    async def search(
        self,
        *,
        asset_class: AssetClass | None,
        exchange: str | None,
        query: str | None,
        after_symbol: str | None,
        limit: int,
    ) -> Sequence[Instrument]:
        statement = select(Instrument).order_by(Instrument.symbol).limit(limit)
        if asset_class is not None:
            statement = statement.where(Instrument.asset_class == asset_class)
        if exchange is not None:
            statement = statement.where(func.upper(Instrument.exchange) == exchange.upper())
        if query:
            # autoescape: `%` and `_` in the query are literal characters, not wildcards.
            text = query.lower()
            statement = statement.where(
                or_(
                    func.lower(Instrument.symbol).contains(text, autoescape=True),
                    func.lower(Instrument.name).contains(text, autoescape=True),
                )
            )
        if after_symbol is not None:
            statement = statement.where(Instrument.symbol > after_symbol)
        return (await self.session.execute(statement)).scalars().all()

    async def upsert(self, values: dict[str, Any]) -> Instrument:
        """Insert or update by symbol (demo and provider metadata refreshes are idempotent)."""
        existing = await self.by_symbol(values["symbol"])
        if existing is None:
            return await self.add(Instrument(**values))
        for key, value in values.items():
            setattr(existing, key, value)
        await self.session.flush()
        return existing


class BarRepository(Repository[Bar]):
    model = Bar

    async def coverage(self, instrument_id: int) -> list[TimeframeCoverage]:
        statement = (
            select(Bar.timeframe, func.count(), func.min(Bar.ts), func.max(Bar.ts))
            .where(Bar.instrument_id == instrument_id)
            .group_by(Bar.timeframe)
        )
        rows = (await self.session.execute(statement)).all()
        found = [TimeframeCoverage(Timeframe(tf), n, lo, hi) for tf, n, lo, hi in rows]
        return sorted(found, key=lambda c: c.timeframe.seconds)

    async def timeframes(self, instrument_id: int) -> list[Timeframe]:
        """Timeframes with at least one bar, finest first: one index seek per timeframe, unlike
        `coverage`, which counts every bar."""
        probes = [
            select(literal(tf.value)).where(
                select(Bar.ts)
                .where(Bar.instrument_id == instrument_id, Bar.timeframe == tf.value)
                .exists()
            )
            for tf in Timeframe
        ]
        found = {row[0] for row in (await self.session.execute(union_all(*probes))).all()}
        return [tf for tf in Timeframe if tf.value in found]

    async def last_ts(self, instrument_id: int, timeframe: Timeframe) -> int | None:
        statement = select(func.max(Bar.ts)).where(
            Bar.instrument_id == instrument_id, Bar.timeframe == timeframe.value
        )
        value = (await self.session.execute(statement)).scalar()
        return int(value) if value is not None else None

    async def has_bars_between(
        self, instrument_id: int, timeframe: Timeframe, lo: int, hi: int
    ) -> bool:
        statement = select(
            select(Bar.ts)
            .where(Bar.instrument_id == instrument_id, Bar.timeframe == timeframe.value)
            .where(Bar.ts >= lo, Bar.ts <= hi)
            .exists()
        )
        return bool((await self.session.execute(statement)).scalar())

    async def write(self, instrument_id: int, timeframe: Timeframe, frame: BarFrame) -> None:
        """Upsert a validated frame: same (instrument, timeframe, ts) replaces the OHLCV values,
        so re-ingesting a file is idempotent and a corrected file fixes earlier rows."""
        if len(frame) == 0:
            return
        columns = [column.tolist() for column in frame.columns()]

        def records() -> Iterator[tuple[Any, ...]]:
            # Lazy: one row tuple alive at a time, so a million-row write leaves nothing for
            # the garbage collector to trace (a prebuilt list costs ~40% more in GC alone).
            return zip(repeat(instrument_id), repeat(timeframe.value), *columns)

        driver = await self.driver_connection()
        postgres = self.dialect == "postgresql"
        lo, hi = int(frame.ts[0]), int(frame.ts[-1])
        if not await self.has_bars_between(instrument_id, timeframe, lo, hi):
            # A new range (the usual case: appending history) takes the driver's fastest plain
            # path, binary COPY or INSERT. A concurrent writer may still fill the range first:
            # the unique key then stops us and the merging path below settles it (on SQLite,
            # rows already inserted are overwritten with the same values; PostgreSQL's COPY
            # runs in a savepoint).
            try:
                if postgres:
                    async with driver.transaction():
                        await driver.copy_records_to_table(
                            "bars", records=records(), columns=BAR_COLUMNS
                        )
                else:
                    await driver.executemany(_SQLITE_INSERT, records())
                return
            except (asyncpg.UniqueViolationError, sqlite3.IntegrityError):
                pass
        if postgres:
            await self._merge_postgres(driver, records())
        else:
            await driver.executemany(_SQLITE_UPSERT, records())

    async def _merge_postgres(self, driver: Any, records: Iterator[tuple[Any, ...]]) -> None:
        """Stage with COPY, then one INSERT ... ON CONFLICT DO UPDATE."""
        await driver.execute(
            "CREATE TEMP TABLE IF NOT EXISTS bars_staging "
            "(LIKE bars INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        await driver.execute("TRUNCATE bars_staging")
        await driver.copy_records_to_table("bars_staging", records=records, columns=BAR_COLUMNS)
        await driver.execute(_PG_MERGE_STAGING)

    async def read(
        self,
        instrument_id: int,
        timeframe: Timeframe,
        *,
        start: int | None,
        end: int | None,
        limit: int,
        newest: bool,
    ) -> BarFrame:
        """Bars in ascending time. `newest` picks the last `limit` bars in the range (what a
        chart wants when no start is given) instead of the first.

        This is the hot path of `GET /bars` and goes straight to the driver into numpy columns:
        per-row ORM/Core objects, or even a list of row tuples, would cost more than the
        database read itself (docs/benchmarks.md).
        """
        postgres = self.dialect == "postgresql"
        params: list[Any] = [instrument_id, timeframe.value]

        def bind(value: Any) -> str:
            params.append(value)
            return f"${len(params)}" if postgres else "?"

        where = (
            "instrument_id = $1 AND timeframe = $2"
            if postgres
            else "instrument_id = ? AND timeframe = ?"
        )
        if start is not None:
            where += f" AND ts >= {bind(start)}"
        if end is not None:
            where += f" AND ts <= {bind(end)}"
        order = "DESC" if newest else "ASC"
        window = (
            "SELECT ts, open, high, low, close, volume FROM bars "  # noqa: S608
            f"WHERE {where} ORDER BY ts {order} LIMIT {bind(limit)}"
        )
        driver = await self.driver_connection()
        if postgres:
            return await _postgres_frame(driver, window, params, newest=newest)
        return await _sqlite_frame(driver, window, params, newest=newest)

    async def last_bars(self, instrument_id: int, timeframe: Timeframe, count: int) -> BarFrame:
        return await self.read(
            instrument_id, timeframe, start=None, end=None, limit=count, newest=True
        )


def _frame_from_table(table: npt.NDArray[np.float64], *, newest: bool) -> BarFrame:
    """A (rows, 6) float table in query order -> ascending BarFrame with contiguous columns
    (orjson serializes only C-contiguous arrays). Epoch seconds are exact in float64."""
    if newest:
        table = table[::-1]
    columns = np.ascontiguousarray(table.T)
    return BarFrame(
        columns[0].astype(np.int64), columns[1], columns[2], columns[3], columns[4], columns[5]
    )


async def _sqlite_frame(driver: Any, sql: str, params: list[Any], *, newest: bool) -> BarFrame:
    """Run `sql` (six numeric columns) and return a BarFrame.

    The rows stream from the cursor straight into one float64 buffer inside aiosqlite's
    worker thread, so no list of row tuples or float objects ever exists: faster than
    `fetchall()` alone, and nothing large is left for the garbage collector. It needs
    aiosqlite's `_execute` (its way to run a function on the connection's thread); should a
    future aiosqlite drop it, the public and slower `fetchmany` loop takes over.
    """

    def to_table(rows: Any) -> npt.NDArray[np.float64]:
        return np.fromiter(chain.from_iterable(rows), dtype=np.float64).reshape(-1, 6)

    run_in_connection_thread = getattr(driver, "_execute", None)
    raw = getattr(driver, "_conn", None)
    if run_in_connection_thread is not None and raw is not None:
        table = await run_in_connection_thread(lambda: to_table(raw.execute(sql, params)))
    else:
        cursor = await driver.execute(sql, params)
        try:
            rows: list[Any] = []
            while chunk := await cursor.fetchmany(_READ_CHUNK_ROWS):
                rows.extend(chunk)
        finally:
            await cursor.close()
        table = to_table(rows)
    return _frame_from_table(table, newest=newest)


async def _postgres_frame(driver: Any, sql: str, params: list[Any], *, newest: bool) -> BarFrame:
    """PostgreSQL packs each column into one bytea of big-endian binary values
    (`float8send`/`int8send`, the wire format of binary COPY) that numpy reads in place: no
    Record, list or float object per bar. The aggregates consume the window in its ORDER BY
    order (a sorted subquery without joins, as the PostgreSQL docs describe for ordered
    aggregates); a per-aggregate ORDER BY would sort the same rows six times."""
    packed = ", ".join(
        f"string_agg({'int8send' if column == 'ts' else 'float8send'}({column}), ''::bytea)"
        for column in _COLUMNS
    )
    row = await driver.fetchrow(f"SELECT {packed} FROM ({sql}) AS window_rows", *params)  # noqa: S608
    if row[0] is None:
        return _frame_from_table(np.empty((0, 6)), newest=False)
    ts, *prices = (
        np.frombuffer(blob, dtype=">i8" if index == 0 else ">f8") for index, blob in enumerate(row)
    )
    step = -1 if newest else 1
    # astype() converts to native byte order and yields fresh C-contiguous arrays for orjson.
    frame = BarFrame(
        ts[::step].astype(np.int64), *(column[::step].astype(np.float64) for column in prices)
    )
    if len(frame) > 1 and not bool(np.all(np.diff(frame.ts) > 0)):
        # Defensive: should a planner ever feed the aggregates out of order, sort here.
        frame = frame.select(np.argsort(frame.ts, kind="stable"))
    return frame


class QuoteRepository(Repository[Quote]):
    model = Quote

    async def upsert(self, values: dict[str, Any]) -> None:
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        statement = insert(Quote).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[Quote.instrument_id],
            set_={key: statement.excluded[key] for key in values if key != "instrument_id"},
        )
        await self.session.execute(statement)


# --------------------------------------------------------------------------- quote hot path
# The uncached quote path (GET /quotes with a provider chain) runs these on a bare connection
# with prebuilt statements: an ORM session, identity map and per-call statement building cost
# several times the queries themselves (docs/benchmarks.md, cache section).


@dataclass(frozen=True, slots=True)
class InstrumentRef:
    """What a quote answer needs of its instrument."""

    id: int
    symbol: str
    currency: str
    asset_class: AssetClass


_QUOTE_COLUMNS = tuple(Quote.__table__.columns)
_INSTRUMENT_QUOTE = (
    select(
        Instrument.id,
        Instrument.symbol,
        Instrument.currency,
        Instrument.asset_class,
        *_QUOTE_COLUMNS,
    )
    .outerjoin(Quote, Quote.instrument_id == Instrument.id)
    .where(Instrument.symbol == bindparam("symbol"))
)


def _quote_upsert(dialect: str) -> Any:
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(Quote)
    return statement.on_conflict_do_update(
        index_elements=[Quote.instrument_id],
        set_={c.key: statement.excluded[c.key] for c in _QUOTE_COLUMNS if c.key != "instrument_id"},
    )


_QUOTE_UPSERTS = {dialect: _quote_upsert(dialect) for dialect in ("postgresql", "sqlite")}


async def instrument_and_quote(
    connection: AsyncConnection, symbol: str
) -> tuple[InstrumentRef, Quote | None] | None:
    """The instrument with this (normalized) symbol and its stored quote, in one query;
    None when there is no such instrument."""
    row = (await connection.execute(_INSTRUMENT_QUOTE, {"symbol": symbol})).first()
    if row is None:
        return None
    instrument = InstrumentRef(row[0], row[1], row[2], AssetClass(row[3]))
    values = row[4:]
    if values[0] is None:  # quotes.instrument_id: no stored quote
        return instrument, None
    return instrument, Quote(**{c.key: v for c, v in zip(_QUOTE_COLUMNS, values, strict=True)})


async def upsert_quote(connection: AsyncConnection, values: dict[str, Any]) -> None:
    """Insert or replace an instrument's quote; `values` has every `quotes` column."""
    await connection.execute(_QUOTE_UPSERTS[connection.dialect.name], values)
