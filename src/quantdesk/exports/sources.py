"""What each export kind reads: its columns (name and Arrow type) and the query that yields its
rows in a stable order, streamed in batches (a server-side cursor on PostgreSQL).

Bulk rows are read here with SQL on the owning domains' tables: an export is a read-only copy
of what those domains stored. Ownership is checked before a job is queued, through the owning
domain's service (service.py), and the query filters on the same owner again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from quantdesk.exports.schemas import (
    AuditParams,
    BacktestTradesParams,
    BarsParams,
    ExportKind,
    LedgerParams,
    OrdersParams,
    SignalsParams,
)
from quantdesk.kit.timeutil import to_epoch
from quantdesk.models import (
    AuditEvent,
    BacktestRun,
    Bar,
    Instrument,
    LedgerEntry,
    LedgerLeg,
    PaperOrder,
    Signal,
)

UTC_TIME = pa.timestamp("s", tz="UTC")
UTC_MICROS = pa.timestamp("us", tz="UTC")
MONEY = pa.decimal128(38, 8)
Rows = Sequence[Sequence[Any]]
AnySelect = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    # A value read from the database -> what pa.array accepts for `type` (None: as is).
    convert: Callable[[Any], Any] | None = None
    # NOT NULL in the database: an all-numeric batch of such columns converts through one
    # numpy array (about ten times faster than a Python list per column).
    not_null: bool = False

    @property
    def type_name(self) -> str:
        return str(self.type)


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _iso(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _col(name: str, kind: pa.DataType, convert: Callable[[Any], Any] | None = None) -> Column:
    return Column(name, kind, convert)


def _required(name: str, kind: pa.DataType) -> Column:
    return Column(name, kind, not_null=True)


def _dense(columns: Sequence[Column]) -> bool:
    return all(
        column.not_null
        and column.convert is None
        and (column.type == UTC_TIME or pa.types.is_float64(column.type))
        for column in columns
    )


def _dense_batch(columns: Sequence[Column], rows: Rows, schema: pa.Schema) -> pa.RecordBatch:
    # Epoch seconds are exact in float64 (integers below 2**53). SQLAlchemy rows are not
    # tuples, and numpy reads them one item at a time (40x slower) unless made tuples first.
    plain = rows if isinstance(rows[0], tuple) else list(map(tuple, rows))
    matrix = np.array(plain, dtype=np.float64)
    arrays = []
    for index, column in enumerate(columns):
        values = matrix[:, index]
        if column.type == UTC_TIME:
            arrays.append(pa.array(values.astype(np.int64)).cast(UTC_TIME))
        else:
            arrays.append(pa.array(values))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def to_batch(columns: Sequence[Column], rows: Rows) -> pa.RecordBatch:
    """``rows`` (tuples in column order) as one Arrow record batch."""
    schema = arrow_schema(columns)
    if not rows:
        return pa.RecordBatch.from_pylist([], schema=schema)
    if _dense(columns):
        return _dense_batch(columns, rows, schema)
    arrays = []
    for column, values in zip(columns, zip(*rows, strict=True), strict=True):
        data = values if column.convert is None else [column.convert(v) for v in values]
        if column.type == UTC_TIME:  # epoch seconds: cast, no Python datetimes
            arrays.append(pa.array(data, pa.int64()).cast(UTC_TIME))
        else:
            arrays.append(pa.array(data, column.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def arrow_schema(columns: Sequence[Column]) -> pa.Schema:
    return pa.schema([pa.field(column.name, column.type) for column in columns])


@dataclass(frozen=True)
class Source:
    """One export's columns and its rows. ``statement`` streams them; ``count`` counts them
    (for progress); a source without a statement yields ``rows`` (a stored document)."""

    columns: list[Column]
    statement: AnySelect | None = None
    count: AnySelect | None = None
    rows: list[tuple[Any, ...]] | None = None

    async def total(self, conn: AsyncConnection) -> int:
        if self.rows is not None:
            return len(self.rows)
        assert self.count is not None
        return int((await conn.execute(self.count)).scalar_one())

    async def batches(self, conn: AsyncConnection, size: int) -> AsyncIterator[Rows]:
        if self.rows is not None:
            for start in range(0, len(self.rows), size):
                yield self.rows[start : start + size]
            return
        assert self.statement is not None
        result = await conn.stream(self.statement.execution_options(yield_per=size))
        async for part in result.partitions(size):
            yield part


def _between(column: Any, start: Any, end: Any) -> list[Any]:
    where = []
    if start is not None:
        where.append(column >= start)
    if end is not None:
        where.append(column <= end)
    return where


def _counted(statement: AnySelect) -> AnySelect:
    return select(func.count()).select_from(statement.order_by(None).subquery())


BAR_COLUMNS = [
    _required("time", UTC_TIME),
    _required("open", pa.float64()),
    _required("high", pa.float64()),
    _required("low", pa.float64()),
    _required("close", pa.float64()),
    _required("volume", pa.float64()),
]


def bars_source(params: BarsParams) -> Source:
    start = to_epoch(params.start) if params.start else None
    end = to_epoch(params.end) if params.end else None
    instrument = select(Instrument.id).where(Instrument.symbol == params.symbol).scalar_subquery()
    statement = (
        select(Bar.ts, Bar.open, Bar.high, Bar.low, Bar.close, Bar.volume)
        .where(Bar.instrument_id == instrument, Bar.timeframe == params.timeframe.value)
        .where(*_between(Bar.ts, start, end))
        .order_by(Bar.ts)
    )
    return Source(BAR_COLUMNS, statement, _counted(statement))


SIGNAL_COLUMNS = [
    _col("id", pa.int64()),
    _col("symbol", pa.string()),
    _col("timeframe", pa.string()),
    _col("strategy", pa.string()),
    _col("direction", pa.string(), _text),
    _col("status", pa.string(), _text),
    _col("entry", pa.float64()),
    _col("target", pa.float64()),
    _col("stop", pa.float64()),
    _col("confidence", pa.float64()),
    _col("created_at", UTC_MICROS),
    _col("expires_at", UTC_MICROS),
    _col("closed_at", UTC_MICROS),
    _col("close_price", pa.float64()),
    _col("settled_return", pa.float64()),
]


def signals_source(params: SignalsParams) -> Source:
    statement = select(
        Signal.id,
        Signal.symbol,
        Signal.timeframe,
        Signal.strategy,
        Signal.direction,
        Signal.status,
        Signal.entry,
        Signal.target,
        Signal.stop,
        Signal.confidence,
        Signal.created_at,
        Signal.expires_at,
        Signal.closed_at,
        Signal.close_price,
        Signal.settled_return,
    ).where(*_between(Signal.created_at, params.start, params.end))
    if params.symbol is not None:
        statement = statement.where(Signal.symbol == params.symbol)
    if params.strategy is not None:
        statement = statement.where(Signal.strategy == params.strategy)
    if params.status is not None:
        statement = statement.where(Signal.status == params.status)
    statement = statement.order_by(Signal.id)
    return Source(SIGNAL_COLUMNS, statement, _counted(statement))


TRADE_COLUMNS = [
    _col("entry_time", UTC_MICROS, _iso),
    _col("exit_time", UTC_MICROS, _iso),
    _col("side", pa.string()),
    _col("units", pa.float64()),
    _col("entry_price", pa.float64()),
    _col("exit_price", pa.float64()),
    _col("commission", pa.float64()),
    _col("pnl", pa.float64()),
    _col("return_pct", pa.float64()),
    _col("exit_reason", pa.string()),
    _col("entry_bar", pa.int64()),
    _col("exit_bar", pa.int64()),
    _col("duration_bars", pa.int64()),
]


async def backtest_trades_source(
    conn: AsyncConnection, params: BacktestTradesParams, user_id: int
) -> Source:
    statement = select(BacktestRun.trades).where(
        BacktestRun.id == params.run_id, BacktestRun.user_id == user_id
    )
    trades: list[dict[str, Any]] = (await conn.execute(statement)).scalar_one_or_none() or []
    names = [column.name for column in TRADE_COLUMNS]
    return Source(
        TRADE_COLUMNS, rows=[tuple(trade.get(name) for name in names) for trade in trades]
    )


ORDER_COLUMNS = [
    _col("id", pa.string()),
    _col("created_at", UTC_MICROS),
    _col("symbol", pa.string()),
    _col("side", pa.string(), _text),
    _col("type", pa.string(), _text),
    _col("time_in_force", pa.string(), _text),
    _col("qty", MONEY),
    _col("limit_price", MONEY),
    _col("stop_price", MONEY),
    _col("status", pa.string(), _text),
    _col("filled_qty", MONEY),
    _col("filled_avg_price", MONEY),
    _col("fees", MONEY),
    _col("client_order_id", pa.string()),
    _col("reject_reason", pa.string()),
    _col("replaces", pa.string()),
    _col("replaced_by", pa.string()),
    _col("filled_at", UTC_MICROS),
    _col("canceled_at", UTC_MICROS),
]


def orders_source(params: OrdersParams, user_id: int) -> Source:
    del user_id  # ownership of the account is checked when the export is accepted
    statement = (
        select(*(getattr(PaperOrder, column.name) for column in ORDER_COLUMNS))
        .where(PaperOrder.account_id == params.account_id)
        .where(*_between(PaperOrder.created_at, params.start, params.end))
        .order_by(PaperOrder.created_at, PaperOrder.id)
    )
    return Source(ORDER_COLUMNS, statement, _counted(statement))


LEDGER_COLUMNS = [
    _col("entry_id", pa.int64()),
    _col("created_at", UTC_MICROS),
    _col("kind", pa.string(), _text),
    _col("status", pa.string(), _text),
    _col("order_id", pa.string()),
    _col("fill_id", pa.string()),
    _col("memo", pa.string()),
    _col("market_ts", pa.int64()),
    _col("leg_id", pa.int64()),
    _col("book", pa.string()),
    _col("currency", pa.string()),
    _col("amount", MONEY),
]


def ledger_source(params: LedgerParams, user_id: int) -> Source:
    del user_id  # ownership of the account is checked when the export is accepted
    statement = (
        select(
            LedgerEntry.id,
            LedgerEntry.created_at,
            LedgerEntry.kind,
            LedgerEntry.status,
            LedgerEntry.order_id,
            LedgerEntry.fill_id,
            LedgerEntry.memo,
            LedgerEntry.market_ts,
            LedgerLeg.id,
            LedgerLeg.book,
            LedgerLeg.currency,
            LedgerLeg.amount,
        )
        .join(LedgerLeg, LedgerLeg.entry_id == LedgerEntry.id)
        .where(LedgerEntry.account_id == params.account_id)
        .where(*_between(LedgerEntry.created_at, params.start, params.end))
        .order_by(LedgerEntry.id, LedgerLeg.id)
    )
    return Source(LEDGER_COLUMNS, statement, _counted(statement))


AUDIT_COLUMNS = [
    _col("id", pa.int64()),
    _col("created_at", UTC_MICROS),
    _col("action", pa.string()),
    _col("outcome", pa.string()),
    _col("actor_user_id", pa.int64()),
    _col("actor_api_key_id", pa.int64()),
    _col("ip", pa.string()),
    _col("resource_type", pa.string()),
    _col("resource_id", pa.string()),
    _col("details", pa.string(), _json),
    _col("prev_hash", pa.string()),
    _col("hash", pa.string()),
]


def audit_source(params: AuditParams) -> Source:
    statement = select(*(getattr(AuditEvent, column.name) for column in AUDIT_COLUMNS)).where(
        *_between(AuditEvent.created_at, params.start, params.end)
    )
    if params.action is not None:
        statement = statement.where(AuditEvent.action == params.action)
    statement = statement.order_by(AuditEvent.id)
    return Source(AUDIT_COLUMNS, statement, _counted(statement))


async def source_for(
    conn: AsyncConnection, kind: ExportKind, params: dict[str, Any], user_id: int
) -> Source:
    """The source of a stored export request (``params`` as validated when it was accepted)."""
    if kind is ExportKind.BARS:
        return bars_source(BarsParams.model_validate(params))
    if kind is ExportKind.SIGNALS:
        return signals_source(SignalsParams.model_validate(params))
    if kind is ExportKind.BACKTEST_TRADES:
        return await backtest_trades_source(
            conn, BacktestTradesParams.model_validate(params), user_id
        )
    if kind is ExportKind.ORDERS:
        return orders_source(OrdersParams.model_validate(params), user_id)
    if kind is ExportKind.LEDGER:
        return ledger_source(LedgerParams.model_validate(params), user_id)
    return audit_source(AuditParams.model_validate(params))
