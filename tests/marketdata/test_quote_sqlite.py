"""The quote miss's one-call SQLite statements store and read what the SQLAlchemy path does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import OperationalError

from quantdesk.db import Database
from quantdesk.marketdata.quote_sqlite import SqliteQuoteStatements
from quantdesk.marketdata.repository import instrument_and_quote, upsert_quote
from quantdesk.models import AssetClass, Quote
from tests.support.factories import create_instrument


def _values(instrument_id: int, price: float, source: str) -> dict[str, object]:
    return {
        "instrument_id": instrument_id,
        "price": price,
        "previous_close": 180.0,
        "change": price - 180.0,
        "change_pct": (price - 180.0) / 180.0 * 100.0,
        "day_open": None,
        "day_high": 182.5,
        "day_low": None,
        "volume": 62_379_661.0,
        "as_of": datetime(2026, 12, 4, 15, 30, 1, 250_000, tzinfo=UTC),
        "source": source,
        "updated_at": datetime(2026, 12, 4, 15, 30, 2, tzinfo=UTC),
    }


def _columns(quote: Quote | None) -> dict[str, object]:
    assert quote is not None
    return {c.key: getattr(quote, c.key) for c in Quote.__table__.columns}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # SQLite's path only
async def test_the_sqlite_statements_match_the_sqlalchemy_ones(db: Database) -> None:
    statements = SqliteQuoteStatements(db.engine.dialect)
    instrument = await create_instrument(db, "GOOG", asset_class=AssetClass.EQUITY)

    assert await statements.instrument_and_quote(db.engine, "NOPE") is None
    found = await statements.instrument_and_quote(db.engine, "GOOG")
    assert found is not None and found[1] is None
    assert found[0].id == instrument.id and found[0].asset_class is AssetClass.EQUITY
    async with db.engine.connect() as connection:
        assert await instrument_and_quote(connection, "GOOG") == found

    # Written here, read by SQLAlchemy: the same row, aware datetimes included.
    written = _values(instrument.id, 181.18, "polygon")
    await statements.upsert_quote(db.engine, written)
    async with db.engine.connect() as connection:
        read = await instrument_and_quote(connection, "GOOG")
    assert read is not None and _columns(read[1]) == written

    # Written by SQLAlchemy (an update this time), read here: the same again.
    rewritten = _values(instrument.id, 179.5, "ccxt:binance")
    async with db.engine.begin() as connection:
        await upsert_quote(connection, rewritten)
    mine = await statements.instrument_and_quote(db.engine, "GOOG")
    async with db.engine.connect() as connection:
        theirs = await instrument_and_quote(connection, "GOOG")
    assert mine is not None and theirs is not None
    assert mine[0] == theirs[0] and _columns(mine[1]) == _columns(theirs[1]) == rewritten


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # SQLite's path only
async def test_driver_errors_are_raised_as_sqlalchemy_errors(db: Database) -> None:
    """The edge tells a busy database (a 503) by SQLAlchemy's OperationalError."""
    statements = SqliteQuoteStatements(db.engine.dialect)
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql("DROP TABLE quotes")
    with pytest.raises(OperationalError, match="no such table: quotes"):
        await statements.instrument_and_quote(db.engine, "GOOG")
    # The connection went back to the pool in working order.
    async with db.engine.connect() as connection:
        assert (await connection.exec_driver_sql("SELECT 1")).scalar() == 1
