"""The SQL of the market overview: reading what the snapshot is computed from (instruments,
daily history, quotes, fundamentals, news sentiment), writing the snapshot, rebuilding or
refreshing the derived relations, and reading them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Table, delete, func, insert, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.analytics.market import history
from quantdesk.analytics.market.derived import (
    DERIVED,
    movers_table,
    sectors_table,
    summary_table,
)
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.frames import BarFrame
from quantdesk.models import (
    Bar,
    FundamentalsSnapshot,
    Instrument,
    MarketRefresh,
    MarketSnapshot,
    Quote,
)

SNAPSHOT_TABLE: Table = MarketSnapshot.__table__  # type: ignore[assignment]
# Finest first: an instrument without daily bars has its sessions built from these.
INTRADAY = (
    Timeframe.M1,
    Timeframe.M5,
    Timeframe.M15,
    Timeframe.M30,
    Timeframe.H1,
    Timeframe.H4,
)


@dataclass(frozen=True)
class InstrumentFacts:
    id: int
    symbol: str
    name: str
    asset_class: str
    exchange: str
    currency: str
    sector: str | None
    industry: str | None
    country: str | None


def _frame(rows: list[Any]) -> BarFrame:
    columns = list(zip(*rows, strict=True))
    return BarFrame(
        ts=np.asarray(columns[0], dtype=np.int64),
        open=np.asarray(columns[1], dtype=np.float64),
        high=np.asarray(columns[2], dtype=np.float64),
        low=np.asarray(columns[3], dtype=np.float64),
        close=np.asarray(columns[4], dtype=np.float64),
        volume=np.asarray(columns[5], dtype=np.float64),
    )


class MarketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    async def instruments(self) -> list[InstrumentFacts]:
        rows = await self.session.execute(
            select(
                Instrument.id,
                Instrument.symbol,
                Instrument.name,
                Instrument.asset_class,
                Instrument.exchange,
                Instrument.currency,
                Instrument.sector,
                Instrument.industry,
                Instrument.country,
            ).where(Instrument.active)
        )
        return [
            InstrumentFacts(row[0], row[1], row[2], str(row[3].value), *row[4:]) for row in rows
        ]

    async def daily_history(self, sessions: int) -> dict[int, BarFrame]:
        """The last `sessions` + 1 daily bars of every active instrument that has any."""
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        postgres = self.dialect == "postgresql"
        return await history.read_daily(raw.driver_connection, postgres, sessions)

    async def intraday_history(
        self, instrument_ids: list[int], sessions: int
    ) -> dict[int, tuple[Timeframe, BarFrame]]:
        """For instruments without daily bars: their finest intraday bars over the last
        `sessions` days (calendar, generously) of what is stored."""
        if not instrument_ids:
            return {}
        found = await self.session.execute(
            select(Bar.instrument_id, Bar.timeframe, func.max(Bar.ts))
            .where(
                Bar.instrument_id.in_(instrument_ids),
                Bar.timeframe.in_([tf.value for tf in INTRADAY]),
            )
            .group_by(Bar.instrument_id, Bar.timeframe)
        )
        chosen: dict[int, tuple[Timeframe, int]] = {}
        for iid, timeframe, last in found:
            tf = Timeframe(timeframe)
            if iid not in chosen or INTRADAY.index(tf) < INTRADAY.index(chosen[iid][0]):
                chosen[iid] = (tf, int(last))
        history: dict[int, tuple[Timeframe, BarFrame]] = {}
        for iid, (tf, last) in chosen.items():
            since = last - (sessions * 7 // 5 + 7) * 86_400
            rows = await self.session.execute(
                select(Bar.ts, Bar.open, Bar.high, Bar.low, Bar.close, Bar.volume)
                .where(Bar.instrument_id == iid, Bar.timeframe == tf.value, Bar.ts >= since)
                .order_by(Bar.ts)
            )
            history[iid] = (tf, _frame(list(rows)))
        return history

    async def with_bars(self, instrument_ids: list[int]) -> set[int]:
        if not instrument_ids:
            return set()
        rows = await self.session.scalars(
            select(Bar.instrument_id).where(Bar.instrument_id.in_(instrument_ids)).distinct()
        )
        return set(rows)

    async def quotes(self, instrument_ids: list[int]) -> dict[int, Quote]:
        if not instrument_ids:
            return {}
        rows = await self.session.scalars(
            select(Quote).where(Quote.instrument_id.in_(instrument_ids))
        )
        return {quote.instrument_id: quote for quote in rows}

    async def fundamentals(self) -> dict[str, dict[str, Any]]:
        """Each symbol's latest stored fundamentals values."""
        latest = (
            select(
                FundamentalsSnapshot.symbol,
                func.max(FundamentalsSnapshot.as_of).label("day"),
            )
            .group_by(FundamentalsSnapshot.symbol)
            .subquery()
        )
        rows = await self.session.execute(
            select(FundamentalsSnapshot.symbol, FundamentalsSnapshot.values).join(
                latest,
                (FundamentalsSnapshot.symbol == latest.c.symbol)
                & (FundamentalsSnapshot.as_of == latest.c.day),
            )
        )
        return {symbol: dict(values or {}) for symbol, values in rows}

    async def _has_table(self, name: str) -> bool:
        connection = await self.session.connection()
        return bool(await connection.run_sync(lambda sync: inspect(sync).has_table(name)))

    async def sentiment(self, days: int) -> dict[str, float]:
        """Mean news sentiment score per symbol over `days` before its latest scored item
        (empty when the news tables do not exist)."""
        if not await self._has_table("news_item_symbols"):
            return {}
        rows = await self.session.execute(
            text(
                "SELECT s.symbol, n.published_at, n.sentiment_score FROM news_item_symbols s "
                "JOIN news_items n ON n.id = s.news_id WHERE n.sentiment_score IS NOT NULL"
            )
        )
        scored: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for symbol, published, score in rows:
            scored[symbol].append((str(published)[:10], float(score)))
        means: dict[str, float] = {}
        for symbol, items in scored.items():
            newest = date.fromisoformat(max(day for day, _ in items))
            first = (newest - timedelta(days=days)).isoformat()
            window = [score for day, score in items if day >= first]
            means[symbol] = sum(window) / len(window)
        return means

    async def replace_snapshot(self, rows: list[dict[str, Any]]) -> None:
        await self.session.execute(delete(MarketSnapshot))
        if not rows:
            return
        if self.dialect == "postgresql":  # binary COPY in this transaction: ~10x executemany
            columns = [column.name for column in SNAPSHOT_TABLE.columns]
            connection = await self.session.connection()
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            await driver.copy_records_to_table(
                SNAPSHOT_TABLE.name,
                records=[tuple(row[name] for name in columns) for row in rows],
                columns=columns,
            )
            return
        # Core executemany on the table: no ORM bulk-insert bookkeeping per row.
        await self.session.execute(insert(SNAPSHOT_TABLE), rows)

    async def refresh_derived(self) -> None:
        """PostgreSQL: REFRESH each materialized view, CONCURRENTLY once it holds data (its
        first refresh cannot be); SQLite: rebuild each table from the same SELECT."""
        for name, (table, select_sql) in DERIVED.items():
            if self.dialect == "postgresql":
                populated = await self.session.scalar(
                    text("SELECT ispopulated FROM pg_matviews WHERE matviewname = :name"),
                    {"name": name},
                )
                mode = "CONCURRENTLY " if populated else ""
                await self.session.execute(text(f"REFRESH MATERIALIZED VIEW {mode}{name}"))
            else:
                columns = ", ".join(column.name for column in table.columns)
                await self.session.execute(delete(table))
                await self.session.execute(text(f"INSERT INTO {name} ({columns}) {select_sql}"))

    async def record_refresh(self, **values: Any) -> MarketRefresh:
        record = await self.session.get(MarketRefresh, 1)
        if record is None:
            record = MarketRefresh(id=1, **values)
            self.session.add(record)
        else:
            for key, value in values.items():
                setattr(record, key, value)
        await self.session.flush()
        return record

    async def last_refresh(self) -> MarketRefresh | None:
        return await self.session.get(MarketRefresh, 1)

    async def summaries(self, asset_class: str | None) -> list[Any]:
        statement = select(summary_table).order_by(summary_table.c.asset_class)
        if asset_class is not None:
            statement = statement.where(summary_table.c.asset_class == asset_class)
        return list((await self.session.execute(statement)).mappings())

    async def sectors(self, asset_class: str) -> list[Any]:
        statement = (
            select(sectors_table)
            .where(sectors_table.c.asset_class == asset_class)
            .order_by(sectors_table.c.turnover.desc(), sectors_table.c.sector)
        )
        return list((await self.session.execute(statement)).mappings())

    async def movers(self, kind: str, asset_class: str | None, limit: int) -> list[Any]:
        table = movers_table
        if asset_class is None:
            rank = table.c.rank_all
            where = table.c.kind == kind
        else:
            rank = table.c.rank_class
            where = (table.c.kind == kind) & (table.c.asset_class == asset_class)
        statement = select(table).where(where, rank <= limit).order_by(rank)
        return list((await self.session.execute(statement)).mappings())
