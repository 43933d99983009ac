"""Writes of bars and quotes publish live market events once committed: only new or changed
closed bars, in time order, at most LIVE_BARS_MAX per write; a new quote as a one-price event."""

from __future__ import annotations

import time

import numpy as np
from fastapi import FastAPI

from quantdesk.infra.events import MarketEvent, MemoryEventBus
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.live_events import LIVE_BARS_MAX
from quantdesk.marketdata.providers.base import Quote as ProviderQuote
from quantdesk.marketdata.quote_service import quote_service
from quantdesk.marketdata.service import bar_service
from tests.support.events import buffered, settle
from tests.support.factories import create_instrument, synthetic_bars


async def _ingest(app: FastAPI, frame: BarFrame, bus: MemoryEventBus) -> list[MarketEvent]:
    async with await bus.subscribe("market.") as subscription:
        async with app.state.db.session() as session:
            await bar_service.ingest(
                session, symbol="TEST", timeframe=Timeframe.D1, frame=frame, events=bus
            )
        await settle()
        found = [event.payload for event in buffered(subscription)]
    return [event for event in found if isinstance(event, MarketEvent)]


async def test_a_write_publishes_new_and_changed_closed_bars_once(app: FastAPI) -> None:
    await create_instrument(app.state.db, "TEST")
    bus = MemoryEventBus()
    frame = synthetic_bars(10)
    first = await _ingest(app, frame, bus)
    assert [event.ts for event in first] == frame.ts.tolist()
    assert {(e.kind, e.source, e.timeframe, e.symbol) for e in first} == {
        ("bar", "live", "1d", "TEST")
    }
    assert [event.close for event in first] == frame.close.tolist()

    assert await _ingest(app, frame, bus) == []  # the same bars again: nothing

    changed_close = frame.close.copy()
    changed_close[7] *= 1.01
    corrected = BarFrame(
        frame.ts,
        frame.open,
        np.maximum(frame.high, changed_close),
        np.minimum(frame.low, changed_close),
        changed_close,
        frame.volume,
    )
    assert [event.ts for event in await _ingest(app, corrected, bus)] == [int(frame.ts[7])]
    await bus.aclose()


async def test_a_forming_bar_is_left_out_and_a_backfill_is_bounded(app: FastAPI) -> None:
    await create_instrument(app.state.db, "TEST")
    bus = MemoryEventBus(queue_size=10_000)
    today = int(time.time()) // 86_400 * 86_400
    count = LIVE_BARS_MAX + 100
    history = synthetic_bars(count, start=today - (count - 1) * 86_400)  # the last one: today
    published = await _ingest(app, history, bus)
    assert [event.ts for event in published] == history.ts[-LIVE_BARS_MAX - 1 : -1].tolist()
    await bus.aclose()


async def test_a_new_quote_is_published_once(app: FastAPI) -> None:
    await create_instrument(app.state.db, "TEST")
    bus = MemoryEventBus()

    class OneQuote:
        """The part of the provider runtime `refresh` uses."""

        def __init__(self, quote: ProviderQuote) -> None:
            self.quote = quote

        async def fetch(self, query: object, provider: str | None = None) -> object:
            quote = self.quote

            class Answer:
                value = quote
                provider = "fake"

                def meta(self) -> dict[str, object]:
                    return {"provider": "fake", "fallback_trace": [], "as_of": "x"}

            return Answer()

    async with await bus.subscribe("market.quote.TEST") as subscription:
        runtime = OneQuote(ProviderQuote("TEST", 123.5, 1_704_100_000, volume=1e6))
        await quote_service.refresh(app.state.db, runtime, "TEST", events=bus)  # type: ignore[arg-type]
        await quote_service.refresh(app.state.db, runtime, "TEST", events=bus)  # type: ignore[arg-type]
        (event,) = [e.payload for e in buffered(subscription)]
    assert event == MarketEvent(
        "quote", "TEST", None, 1_704_100_000, 123.5, 123.5, 123.5, 123.5, 0.0, "live"
    )
    await bus.aclose()
