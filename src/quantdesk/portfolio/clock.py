"""The per-symbol market clock (docs/paper-trading.md, "Market time").

Each symbol has one `market_clock` row: the market time (`ts`) of the latest market event the
desk processed for it, a counter of processed events (`seq`; an order remembers it at
acceptance and is eligible from the next one), the last price, the previous day's close and
the mode.

Rules for a market event of symbol S:

- live mode: only `source="live"` events count, and only if `ts > clock.ts`;
- replay mode: only `source="replay"` events count, and only if `ts > clock.ts`; live events
  are ignored while a replay owns the symbol;
- `ReplayStatus started` switches to replay mode with `ts = -1` (the replay's first bar counts
  whatever its time), `stopped` (of the replay that owns the clock) back to live with
  `ts = -1`.

`advance()` claims the event ATOMICALLY: one conditional `UPDATE ... WHERE mode = :mode AND
ts < :ts` is the transaction's first write (a row lock on PostgreSQL, the write lock on
SQLite), so when two processes handle the same event only one of them advances the clock and
the other skips the event. A symbol without a clock row gets one on its first live event
(`INSERT ... ON CONFLICT DO NOTHING`, then the claim again if another process won the insert).

Day change: `last_date` is the UTC date of the latest event; when an event of a later date
advances the clock, the previous event's close becomes `prev_close` (the previous session's
close, for day change figures). An event of an EARLIER date (a replay going back in time)
clears `prev_close`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.engine.fills import BarPrices, utc_date
from quantdesk.infra.events import MarketEvent, ReplayStatus
from quantdesk.models.base import utcnow
from quantdesk.models.portfolio import ClockMode, MarketClock


@dataclass(frozen=True, slots=True)
class ClockStep:
    """One event that advanced its symbol's clock: the new `seq`, the bar, and the day.

    `day_changed` is True when the event's UTC date differs from the previous event's (and on
    the symbol's first event); `prev_close` is the close of the last event of an earlier date.
    """

    symbol: str
    seq: int
    ts: int
    bar: BarPrices
    session_date: date
    previous_date: date | None
    prev_close: Decimal | None

    @property
    def price(self) -> Decimal:
        return self.bar.close

    @property
    def day_changed(self) -> bool:
        return self.previous_date != self.session_date


def bar_of(event: MarketEvent) -> BarPrices:
    """The event's prices as Decimals (`Decimal(repr(x))`, 8 decimals); a quote is a one-price
    bar of volume 0."""
    if event.kind == "quote":
        return BarPrices.from_floats(
            event.ts, event.close, event.close, event.close, event.close, 0.0
        )
    return BarPrices.from_floats(
        event.ts, event.open, event.high, event.low, event.close, event.volume
    )


def _insert(session: AsyncSession):  # type: ignore[no-untyped-def]
    dialect = session.get_bind().dialect.name
    return pg_insert if dialect == "postgresql" else sqlite_insert


async def _claim(
    session: AsyncSession, symbol: str, mode: ClockMode, ts: int
) -> tuple[int, Decimal | None, Decimal | None, date | None] | None:
    """Advance seq/ts if the event counts; answers (new seq, old last_price, old prev_close,
    old last_date) or None. The price columns are not written here, so RETURNING gives their
    values before this event."""
    result = await session.execute(
        update(MarketClock)
        .where(MarketClock.symbol == symbol, MarketClock.mode == mode, MarketClock.ts < ts)
        .values(seq=MarketClock.seq + 1, ts=ts, updated_at=utcnow())
        .returning(
            MarketClock.seq, MarketClock.last_price, MarketClock.prev_close, MarketClock.last_date
        )
        .execution_options(synchronize_session=False)
    )
    row = result.one_or_none()
    if row is None:
        return None
    return int(row[0]), row[1], row[2], row[3]


async def advance(session: AsyncSession, event: MarketEvent) -> ClockStep | None:
    """Move `event.symbol`'s clock to this event if it counts (module docstring); None when it
    does not (a duplicate, an older event, another mode's event): the caller skips it."""
    mode = ClockMode.REPLAY if event.source == "replay" else ClockMode.LIVE
    bar = bar_of(event)
    today = utc_date(event.ts)
    claimed = await _claim(session, event.symbol, mode, event.ts)
    if claimed is None:
        if mode is not ClockMode.LIVE:
            return None  # a replay event without its `started`: nobody asked for it
        inserted = await session.execute(
            _insert(session)(MarketClock)
            .values(
                symbol=event.symbol,
                seq=1,
                ts=event.ts,
                mode=ClockMode.LIVE,
                last_price=bar.close,
                last_date=today,
                updated_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=[MarketClock.symbol])
            .returning(MarketClock.seq)
        )
        if inserted.one_or_none() is not None:
            return ClockStep(event.symbol, 1, event.ts, bar, today, None, None)
        claimed = await _claim(session, event.symbol, mode, event.ts)  # lost the insert race
        if claimed is None:
            return None
    seq, last_price, prev_close, last_date = claimed
    if last_date is not None and today > last_date:
        prev_close = last_price
    elif last_date is not None and today < last_date:
        prev_close = None  # market time went back (a replay): no previous session known
    await session.execute(
        update(MarketClock)
        .where(MarketClock.symbol == event.symbol)
        .values(last_price=bar.close, prev_close=prev_close, last_date=today)
        .execution_options(synchronize_session=False)
    )
    return ClockStep(event.symbol, seq, event.ts, bar, today, last_date, prev_close)


async def switch_mode(session: AsyncSession, status: ReplayStatus) -> bool:
    """Apply a replay's start or stop to its symbol's clock; answers whether it changed.

    `started`: replay mode owned by `status.replay_id`, `ts = -1`. `stopped`: back to live with
    `ts = -1`, only if that replay still owns the clock (a late `stopped` of an earlier replay
    does not end a newer one)."""
    if status.state == "started":
        statement = _insert(session)(MarketClock).values(
            symbol=status.symbol,
            seq=0,
            ts=-1,
            mode=ClockMode.REPLAY,
            replay_id=status.replay_id,
            updated_at=utcnow(),
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[MarketClock.symbol],
                set_={
                    "mode": ClockMode.REPLAY,
                    "ts": -1,
                    "replay_id": status.replay_id,
                    "updated_at": utcnow(),
                },
            )
        )
        return True
    result = await session.execute(
        update(MarketClock)
        .where(
            MarketClock.symbol == status.symbol,
            MarketClock.mode == ClockMode.REPLAY,
            MarketClock.replay_id == status.replay_id,
        )
        .values(mode=ClockMode.LIVE, ts=-1, replay_id=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def read_clock(session: AsyncSession, symbol: str) -> MarketClock | None:
    return await session.scalar(select(MarketClock).where(MarketClock.symbol == symbol))


async def last_prices(session: AsyncSession, symbols: list[str]) -> dict[str, MarketClock]:
    """The clock rows of `symbols` that exist (last price, previous close)."""
    if not symbols:
        return {}
    rows = await session.scalars(select(MarketClock).where(MarketClock.symbol.in_(symbols)))
    return {row.symbol: row for row in rows}
