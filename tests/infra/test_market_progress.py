"""MarketProgress: a producer waits until the registered consumers have marked a market time."""

from __future__ import annotations

import asyncio

from quantdesk.infra.events import MarketProgress

WAIT = 10.0  # generous; a wait that should succeed returns as soon as the mark arrives


async def test_without_consumers_a_wait_returns_at_once() -> None:
    progress = MarketProgress()
    assert progress.consumers == 0
    assert await progress.wait_for("GOOG", 100, timeout=0.0) is True


async def test_a_wait_returns_when_a_consumer_marks_that_time_or_later() -> None:
    progress = MarketProgress()
    with progress.register() as consumer:
        assert progress.consumers == 1
        waiting = asyncio.create_task(progress.wait_for("GOOG", 200, timeout=WAIT))
        await asyncio.sleep(0)
        consumer.mark("GOOG", 100)  # earlier: not enough
        consumer.mark("MSFT", 300)  # another symbol: not enough
        await asyncio.sleep(0.01)
        assert not waiting.done()
        consumer.mark("GOOG", 250)
        assert await waiting is True
        # Already marked: at once.
        assert await progress.wait_for("GOOG", 250, timeout=0.0) is True
    assert progress.consumers == 0


async def test_a_wait_times_out_and_reset_forgets_marks() -> None:
    progress = MarketProgress()
    consumer = progress.register()
    consumer.mark("GOOG", 500)
    progress.reset("GOOG")
    assert progress.marked("GOOG") is None
    assert await progress.wait_for("GOOG", 100, timeout=0.01) is False
    consumer.close()
    consumer.close()  # idempotent
    assert progress.consumers == 0


async def test_the_last_consumer_leaving_releases_the_waiters() -> None:
    progress = MarketProgress()
    consumer = progress.register()
    waiting = asyncio.create_task(progress.wait_for("GOOG", 100, timeout=WAIT))
    await asyncio.sleep(0)
    consumer.close()
    assert await waiting is True


async def test_the_app_has_one_market_progress(app: object) -> None:
    progress = app.state.market_progress  # type: ignore[attr-defined]
    assert isinstance(progress, MarketProgress)
    assert app.state.replay.progress is progress  # type: ignore[attr-defined]


async def test_a_wait_needs_every_registered_consumer() -> None:
    progress = MarketProgress()
    fast, slow = progress.register(), progress.register()
    waiting = asyncio.create_task(progress.wait_for("GOOG", 100, timeout=WAIT))
    fast.mark("GOOG", 100)
    await asyncio.sleep(0.01)
    assert not waiting.done() and progress.marked("GOOG") is None
    slow.mark("GOOG", 120)
    assert await waiting is True
    assert progress.marked("GOOG") == 100
    # A consumer leaving releases what only it held back.
    waiting = asyncio.create_task(progress.wait_for("GOOG", 200, timeout=WAIT))
    await asyncio.sleep(0)
    slow.mark("GOOG", 200)
    fast.close()
    assert await waiting is True
    # The producer-side mark counts for every consumer.
    progress.mark("GOOG", 300)
    assert await progress.wait_for("GOOG", 300, timeout=0.0) is True
    slow.close()
