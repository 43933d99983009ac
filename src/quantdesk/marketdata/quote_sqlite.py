"""A quote miss's two statements on SQLite, each in one call to the driver.

Through SQLAlchemy, a statement on aiosqlite is four trips to the connection's thread (open a
cursor, execute, fetch, close it), each one a wake-up of the event loop; on a quote miss those
trips cost more server CPU than the statements (docs/benchmarks.md, cache section). Here the
instrument lookup and the quote upsert go to the driver in one call each (`execute_fetchall`,
then the upsert's commit) on a connection checked out of the engine's pool, without the
`AsyncConnection` around it (whose start, begin, commit and close cost as much again). Driver
errors are raised as SQLAlchemy's (`database is locked` stays an `OperationalError`: a 503).
The statements are `marketdata.repository`'s own, compiled once for the engine's dialect, and
their parameters and results pass through SQLAlchemy's own bind and result processors, so what
is stored and read is exactly what the SQLAlchemy path stores and reads. Other databases use
that path.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import greenlet_spawn

from quantdesk.marketdata.repository import (
    _INSTRUMENT_QUOTE,
    _QUOTE_COLUMNS,
    _QUOTE_UPSERTS,
    InstrumentRef,
)
from quantdesk.models import AssetClass, Quote

Processor = Callable[[Any], Any] | None


class Prepared:
    """A statement compiled for one dialect with positional parameters, and the processors
    SQLAlchemy applies to its parameters and result columns."""

    def __init__(
        self,
        statement: ClauseElement,
        dialect: Dialect,
        *,
        column_keys: Sequence[str] | None = None,
        columns: Sequence[Any] = (),
    ) -> None:
        compiled = statement.compile(
            dialect=dialect, column_keys=list(column_keys) if column_keys is not None else None
        )
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        self.names: list[str] = list(compiled.positiontup or ())
        self._binds: list[Processor] = [
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in self.names
        ]
        self._results: list[Processor] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            process(values[name]) if process is not None else values[name]
            for name, process in zip(self.names, self._binds, strict=True)
        )

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            process(value) if process is not None else value
            for value, process in zip(raw, self._results, strict=True)
        )


class SqliteQuoteStatements:
    """The lookup and the upsert for one SQLite engine's dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.lookup = Prepared(
            _INSTRUMENT_QUOTE, dialect, columns=list(_INSTRUMENT_QUOTE.selected_columns)
        )
        self.upsert = Prepared(
            _QUOTE_UPSERTS["sqlite"], dialect, column_keys=[c.key for c in _QUOTE_COLUMNS]
        )

    async def instrument_and_quote(
        self, engine: AsyncEngine, symbol: str
    ) -> tuple[InstrumentRef, Quote | None] | None:
        """As `repository.instrument_and_quote`."""
        lookup = self.lookup
        parameters = lookup.parameters({"symbol": symbol})
        async with _driver(engine, lookup.sql, parameters) as driver:
            rows = list(await driver.execute_fetchall(lookup.sql, parameters))
        if not rows:
            return None
        row = lookup.row(rows[0])
        instrument = InstrumentRef(row[0], row[1], row[2], AssetClass(row[3]))
        values = row[4:]
        if values[0] is None:  # quotes.instrument_id: no stored quote
            return instrument, None
        return instrument, quote_row(
            {c.key: v for c, v in zip(_QUOTE_COLUMNS, values, strict=True)}
        )

    async def upsert_quote(self, engine: AsyncEngine, values: Mapping[str, Any]) -> None:
        """As `repository.upsert_quote` in its own unit of work: `values` has every `quotes`
        column."""
        upsert = self.upsert
        parameters = upsert.parameters(values)
        async with _driver(engine, upsert.sql, parameters) as driver:
            # execute_fetchall: the cursor is made, run and dropped on the driver's own thread.
            await driver.execute_fetchall(upsert.sql, parameters)
            await driver.commit()


_QUOTE_MANAGER = Quote.__mapper__.class_manager


def quote_row(values: Mapping[str, Any]) -> Quote:
    """A read-only `Quote` holding `values` (every column), made as the ORM makes the objects a
    query loads (attributes filled in directly, no change events): for building answers, never
    to be added to a session. A tenth of the cost of `Quote(**values)`."""
    quote = cast(Quote, _QUOTE_MANAGER.new_instance())
    quote.__dict__.update(values)
    return quote


@asynccontextmanager
async def _driver(engine: AsyncEngine, sql: str, parameters: Sequence[Any]) -> AsyncIterator[Any]:
    """The aiosqlite connection of a connection checked out of `engine`'s pool, returned to it
    on the way out (the pool rolls back whatever was left uncommitted)."""
    raw = await engine.raw_connection()
    try:
        yield raw.driver_connection
    except sqlite3.Error as error:
        raise DBAPIError.instance(sql, parameters, error, sqlite3.Error) from error
    finally:
        await greenlet_spawn(raw.close)
