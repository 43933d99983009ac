"""Live market events: what a write of bars or of a quote publishes on the event bus.

Every write of new bars by the `marketdata.fetch_bars` job (`BarService.ingest` given a bus; a
CSV or demo load passes none) or of a new quote (`QuoteService.refresh`: the
`marketdata.fetch_quotes` job and a quote miss answered by the provider chain) publishes
`MarketEvent`s with `source="live"` once its transaction has committed
(`after_commit_async`; a rolled-back write publishes nothing).

Bars:

- Only **closed** bars (close time <= now; a bar still forming is left out: its high, low and
  close may still change) that are **new or changed**: the frame is compared with the stored
  rows before the write, so writing the same bars twice publishes nothing the second time.
- In time order, and at most `LIVE_BARS_MAX` (500) per write: a backfill of thousands of
  historic bars publishes only its latest 500. Consumers of market time (the paper desk) only
  act on bars newer than their clock, and 500 fits the default subscriber buffer
  (`QUANTDESK_EVENTS_QUEUE_SIZE`, 1000) with room for other symbols.
- The quote a bar write derives from the bars is not published separately: its price is the
  last bar's close, already published as that bar.

Publishing never fails the write: a bus that cannot publish logs it (the bars are stored).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.db import after_commit_async
from quantdesk.infra.events import EventBus, MarketEvent
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.repository import BarRepository
from quantdesk.observability.logging import get_logger

LIVE_BARS_MAX = 500

log = get_logger("quantdesk.events")


def bar_close_times(ts: npt.NDArray[np.int64], timeframe: Timeframe) -> npt.NDArray[np.int64]:
    """When each bar (open time `ts`) closes: the next month's start for 1M, ts + length else."""
    if timeframe is Timeframe.MN1:
        months = ts.astype("datetime64[s]").astype("datetime64[M]") + 1
        return months.astype("datetime64[s]").astype(np.int64)
    return ts + timeframe.seconds


def bar_events(
    symbol: str, timeframe: Timeframe, frame: BarFrame, *, source: str = "live"
) -> list[MarketEvent]:
    """One `MarketEvent` per bar of `frame`, in its (time) order."""
    return [
        MarketEvent(
            "bar",
            symbol,
            timeframe.value,
            int(ts),
            float(o),
            float(h),
            float(lo),
            float(c),
            float(v),
            "replay" if source == "replay" else "live",
        )
        for ts, o, h, lo, c, v in zip(*frame.columns(), strict=True)
    ]


async def new_closed_bars(
    bars: BarRepository,
    instrument_id: int,
    timeframe: Timeframe,
    frame: BarFrame,
    *,
    now: float | None = None,
    limit: int = LIVE_BARS_MAX,
) -> BarFrame:
    """The latest `limit` closed bars of `frame` that are not stored with these very values
    (call it before writing `frame`)."""
    if len(frame) == 0:
        return frame
    now_ts = int(time.time() if now is None else now)
    closed = frame.select(bar_close_times(frame.ts, timeframe) <= now_ts)
    closed = closed.slice(max(0, len(closed) - limit), len(closed))
    if len(closed) == 0:
        return closed
    stored = await bars.read(
        instrument_id,
        timeframe,
        start=int(closed.ts[0]),
        end=int(closed.ts[-1]),
        limit=len(closed) * 4,
        newest=True,
    )
    if len(stored) == 0:
        return closed
    index = np.searchsorted(stored.ts, closed.ts)
    index = np.minimum(index, len(stored) - 1)
    same = stored.ts[index] == closed.ts
    for new, old in zip(closed.columns()[1:], stored.columns()[1:], strict=True):
        same &= old[index] == new
    return closed.select(~same)


def publish_after_commit(
    session: AsyncSession, events: EventBus, payloads: Sequence[MarketEvent]
) -> None:
    """Publish `payloads` in order once `session` commits (nothing on a rollback)."""
    if not payloads:
        return
    items = list(payloads)
    after_commit_async(session, lambda: publish_all(events, items))


async def publish_all(events: EventBus, payloads: Sequence[MarketEvent]) -> None:
    """Publish in order; a failure is logged, never raised (the data is stored already)."""
    try:
        for payload in payloads:
            await events.publish(payload.topic, payload)
    except Exception as error:
        log.warning("events.publish_failed", error=str(error), events=len(payloads))


def quote_event(symbol: str, ts: int, price: float) -> MarketEvent:
    """A quote as a one-price market event; volume 0 (a provider's day volume is not the
    volume traded at this price, and a volume cap must not read it as such)."""
    return MarketEvent("quote", symbol, None, ts, price, price, price, price, 0.0, "live")
