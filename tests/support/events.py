"""Market events to publish and a bounded wait for the next delivery (event-bus tests)."""

from __future__ import annotations

import asyncio

from quantdesk.infra.events import Event, MarketEvent, MarketEventSource, Subscription

# Generous: a loaded CI machine may take long to hand a Redis message over; never asserted on.
DELIVERY_TIMEOUT = 10.0


def bar(
    symbol: str, ts: int, *, timeframe: str = "1d", source: MarketEventSource = "live"
) -> MarketEvent:
    price = 100.0 + ts % 1000
    return MarketEvent(
        "bar", symbol, timeframe, ts, price, price + 2, price - 1, price + 1, 1_000.0, source
    )


def quote(symbol: str, ts: int) -> MarketEvent:
    price = 50.0 + ts % 1000 / 4
    return MarketEvent("quote", symbol, None, ts, price, price, price, price, 0.0)


async def next_event(subscription: Subscription) -> Event:
    return await asyncio.wait_for(subscription.get(), timeout=DELIVERY_TIMEOUT)


def buffered(subscription: Subscription) -> list[Event]:
    """Every event waiting in the subscription's buffer, oldest first (no waiting)."""
    found = []
    while (event := subscription.get_nowait()) is not None:
        found.append(event)
    return found


async def settle() -> None:
    """Let the publishing started at a commit (`after_commit_async` tasks) finish."""
    from quantdesk.db import after_commit_work_done

    await asyncio.sleep(0)
    await after_commit_work_done()
