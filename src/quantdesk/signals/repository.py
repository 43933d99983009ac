"""SQL for signals: idempotent inserts, filtered newest-first pages, latest per strategy,
and the per-strategy track record (`stats`, one grouped aggregate query)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Double, Select, Table, case, cast, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from quantdesk.kit.repository import Repository
from quantdesk.models import Signal, SignalDirection, SignalStatus

UNIQUE_KEY = ("instrument_id", "timeframe", "strategy", "source_ts")


@dataclass(frozen=True)
class SignalFilter:
    symbol: str | None = None
    timeframe: str | None = None
    strategy: str | None = None
    direction: SignalDirection | None = None
    status: SignalStatus | None = None
    min_confidence: float | None = None
    created_since: datetime | None = None
    created_before: datetime | None = None

    def apply(self, statement: Select[Any]) -> Select[Any]:
        conditions: list[Any] = []
        if self.symbol is not None:
            conditions.append(Signal.symbol == self.symbol)
        if self.timeframe is not None:
            conditions.append(Signal.timeframe == self.timeframe)
        if self.strategy is not None:
            conditions.append(Signal.strategy == self.strategy)
        if self.direction is not None:
            conditions.append(Signal.direction == self.direction)
        if self.status is not None:
            conditions.append(Signal.status == self.status)
        if self.min_confidence is not None:
            conditions.append(Signal.confidence >= self.min_confidence)
        if self.created_since is not None:
            conditions.append(Signal.created_at >= self.created_since)
        if self.created_before is not None:
            conditions.append(Signal.created_at <= self.created_before)
        return statement.where(*conditions) if conditions else statement


@dataclass(frozen=True)
class SignalStats:
    """The track record of one strategy on one symbol and timeframe. Rates and averages are
    over settled signals (None when none is settled yet)."""

    strategy: str
    symbol: str
    timeframe: str
    count: int  # every signal, active included
    active: int
    target_hit: int
    stopped: int
    expired: int
    hit_rate: float | None  # share of settled signals with settled_return > 0
    avg_return: float | None  # mean settled_return
    avg_bars_held: float | None

    @property
    def settled(self) -> int:
        return self.target_hit + self.stopped + self.expired


def _count_of(status: SignalStatus) -> Any:
    return func.sum(case((Signal.status == status, 1), else_=0))


class SignalRepository(Repository[Signal]):
    model = Signal

    async def insert_new(self, rows: Sequence[dict[str, Any]]) -> list[Signal]:
        """Insert rows whose (instrument, timeframe, strategy, source bar) is not stored yet;
        return only those inserted. A concurrent generator inserting the same key first is
        not an error: its row stays and ours is skipped."""
        if not rows:
            return []
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        statement = (
            insert(Signal)
            .values(list(rows))
            .on_conflict_do_nothing(index_elements=list(UNIQUE_KEY))
            .returning(Signal.id)
        )
        ids = list((await self.session.execute(statement)).scalars())
        if not ids:
            return []
        found = await self.session.execute(
            select(Signal).where(Signal.id.in_(ids)).order_by(Signal.id)
        )
        return list(found.scalars())

    async def insert_many(self, rows: Sequence[dict[str, Any]]) -> int:
        """Insert rows (all with the same keys) in one executemany (batched multi-row
        INSERTs), skipping those whose key is stored already; return how many were
        inserted."""
        if not rows:
            return 0
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        table = Signal.__table__  # Core: executemany, no ORM bulk bookkeeping
        assert isinstance(table, Table)
        statement = (
            insert(table)
            .on_conflict_do_nothing(index_elements=list(UNIQUE_KEY))
            .returning(table.c.id)
        )
        result = await self.session.execute(statement, list(rows))
        return len(result.all())

    async def page(
        self, filters: SignalFilter, *, before_id: int | None, limit: int
    ) -> Sequence[Signal]:
        """Newest first (by id); `before_id` continues after the previous page."""
        statement = filters.apply(select(Signal)).order_by(Signal.id.desc()).limit(limit)
        if before_id is not None:
            statement = statement.where(Signal.id < before_id)
        rows: Sequence[Signal] = (await self.session.execute(statement)).scalars().all()
        return rows

    async def latest(self, filters: SignalFilter, *, limit: int) -> Sequence[Signal]:
        """The newest signal of each (instrument, timeframe, strategy), newest first."""
        newest = filters.apply(
            select(func.max(Signal.id)).group_by(
                Signal.instrument_id, Signal.timeframe, Signal.strategy
            )
        )
        statement = (
            select(Signal)
            .where(Signal.id.in_(newest.scalar_subquery()))
            .order_by(Signal.source_ts.desc(), Signal.id.desc())
            .limit(limit)
        )
        return (await self.session.execute(statement)).scalars().all()

    async def for_bar(self, instrument_id: int, timeframe: str, source_ts: int) -> list[Signal]:
        statement = (
            select(Signal)
            .where(
                Signal.instrument_id == instrument_id,
                Signal.timeframe == timeframe,
                Signal.source_ts == source_ts,
            )
            .order_by(Signal.id)
        )
        return list((await self.session.execute(statement)).scalars())

    async def active(self) -> Sequence[Signal]:
        statement = (
            select(Signal)
            .where(Signal.status == SignalStatus.ACTIVE)
            .order_by(Signal.symbol, Signal.timeframe, Signal.source_ts, Signal.id)
        )
        return (await self.session.execute(statement)).scalars().all()

    async def active_counts(self) -> dict[str, int]:
        """Active signals per strategy, counted in SQL."""
        statement = (
            select(Signal.strategy, func.count())
            .where(Signal.status == SignalStatus.ACTIVE)
            .group_by(Signal.strategy)
        )
        return {str(name): int(count) for name, count in await self.session.execute(statement)}

    async def stats(self, filters: SignalFilter) -> list[SignalStats]:
        """Per (strategy, symbol, timeframe): counts by status, hit rate, average return and
        bars held of the settled signals, aggregated in SQL; ordered by strategy, symbol and
        timeframe."""
        settled = Signal.settled_return.is_not(None)
        hit = case((Signal.settled_return > 0, 1.0), (settled, 0.0))  # NULL while active
        keys = (Signal.strategy, Signal.symbol, Signal.timeframe)
        statement = filters.apply(
            select(
                *keys,
                func.count(),
                _count_of(SignalStatus.ACTIVE),
                _count_of(SignalStatus.TARGET_HIT),
                _count_of(SignalStatus.STOPPED),
                _count_of(SignalStatus.EXPIRED),
                func.avg(cast(hit, Double)),
                func.avg(cast(Signal.settled_return, Double)),
                func.avg(cast(Signal.bars_held, Double)),
            )
            .group_by(*keys)
            .order_by(*keys)
        )
        return [
            SignalStats(
                strategy=str(strategy),
                symbol=str(symbol),
                timeframe=str(timeframe),
                count=int(count),
                active=int(active),
                target_hit=int(target_hit),
                stopped=int(stopped),
                expired=int(expired),
                hit_rate=_float(hit_rate),
                avg_return=_float(avg_return),
                avg_bars_held=_float(avg_bars_held),
            )
            for (
                strategy,
                symbol,
                timeframe,
                count,
                active,
                target_hit,
                stopped,
                expired,
                hit_rate,
                avg_return,
                avg_bars_held,
            ) in await self.session.execute(statement)
        ]


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
