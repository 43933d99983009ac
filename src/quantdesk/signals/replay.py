"""Signals during a market replay: after each replayed bar, the signals stored for that bar
(`new_signal`) and those that settled on it (`signal_closed`) are published, so a stream shows
the strategies acting on the replayed market (`quantdesk stream GOOG` during `quantdesk replay
GOOG`). They are read back, not generated: the demo's backfill stored them. Published on the
bus only (no `emit`): a replay changes nothing, so webhooks are not told."""

from __future__ import annotations

from sqlalchemy import select

from quantdesk.db import Database
from quantdesk.infra.events import EventBus, MarketEvent
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import from_epoch
from quantdesk.marketdata.replay.hooks import on_replayed_bar
from quantdesk.models import Signal
from quantdesk.signals.events import NewSignal, SignalClosed


@on_replayed_bar
async def publish_replayed_signals(db: Database, bus: EventBus, event: MarketEvent) -> None:
    if event.timeframe is None:
        return
    try:
        span = Timeframe(event.timeframe).seconds
    except ValueError:
        return
    same_series = (Signal.symbol == event.symbol) & (Signal.timeframe == event.timeframe)
    async with db.session() as session:
        opened = (
            await session.scalars(
                select(Signal).where(same_series, Signal.source_ts == event.ts).order_by(Signal.id)
            )
        ).all()
        closed = (
            await session.scalars(
                select(Signal)
                .where(
                    same_series,
                    Signal.closed_at > from_epoch(event.ts),
                    Signal.closed_at <= from_epoch(event.ts + span),
                )
                .order_by(Signal.id)
            )
        ).all()
    payloads: list[SignalClosed | NewSignal] = [SignalClosed.of(s) for s in closed]
    payloads += [NewSignal.of(s) for s in opened]
    for payload in payloads:
        await bus.publish(payload.topic, payload)
