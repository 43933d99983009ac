"""The desk as a consumer: progress marked for every event (duplicates and failures too),
failures counted without stopping, order updates published after the commit, replay
start/stop switching the clock, quotes as one-price bars."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.infra.events import MarketEvent, MarketProgress, MemoryEventBus, ReplayStatus
from quantdesk.models.portfolio import ClockMode, MarketClock
from quantdesk.portfolio.desk import Desk
from quantdesk.portfolio.events import OrderUpdate
from tests.support.accounts import create_user
from tests.support.events import buffered
from tests.support.paper_desk import (
    DAY,
    DAY0,
    bar,
    check_books,
    fills_of,
    open_account,
    order_row,
    place,
    replay_started,
)


async def test_every_event_is_marked_and_a_failure_is_counted_not_fatal(
    db: Database, settings: Settings
) -> None:
    progress = MarketProgress()
    bus = MemoryEventBus()
    desk = Desk(db, settings, bus, progress)
    await desk.start()
    try:
        good = bar("AAA", 1, 100, 101, 99, 100)
        # Valid on the bus (finite numbers) but not a bar: low above the open.
        broken = MarketEvent("bar", "AAA", "1d", DAY0 + 2 * DAY, 100, 101, 100.5, 100, 10)
        for event in (good, good, broken):
            await bus.publish(event.topic, event)
        assert await progress.wait_for("AAA", broken.ts, timeout=10)
        later = bar("AAA", 3, 100, 101, 99, 100)
        await bus.publish(later.topic, later)
        assert await progress.wait_for("AAA", later.ts, timeout=10)
        assert (desk.processed, desk.skipped, desk.failed) == (2, 1, 1)
    finally:
        await desk.stop()
        await bus.aclose()
    assert progress.consumers == 0


async def test_order_updates_are_published_after_the_commit(
    db: Database, settings: Settings
) -> None:
    bus = MemoryEventBus()
    desk = Desk(db, settings, bus)
    user = await create_user(db)
    account = await open_account(db, user.id)
    await desk.process(bar("AAA", 0, 100, 100, 100, 100))
    order_id = await place(db, settings, account, "AAA", "buy", "5")
    async with await bus.subscribe(f"orders.{account}") as subscription:
        await desk.process(bar("AAA", 1, 101, 101, 101, 101))
        [event] = buffered(subscription)
    await bus.aclose()
    update = event.payload
    assert isinstance(update, OrderUpdate)
    assert (update.order_id, update.event, update.status) == (order_id, "fill", "filled")
    assert (update.fill_qty, update.fill_price, update.market_ts) == ("5.00", "101.00", DAY0 + DAY)


async def test_replay_stop_gives_the_symbol_back_to_live_events(
    db: Database, settings: Settings
) -> None:
    desk = Desk(db, settings)
    await desk.process(bar("AAA", 10, 100, 100, 100, 100))
    await desk.process(replay_started("AAA", "r1"))
    assert not (await desk.process(bar("AAA", 0, 1, 1, 1, 1, source="replay"))).skipped
    late_stop = ReplayStatus("AAA", "r0", "stopped", "1d", DAY0)  # another replay's stop
    await desk.process(late_stop)
    async with db.session() as session:
        clock = await session.get(MarketClock, "AAA")
        assert clock is not None and clock.mode is ClockMode.REPLAY
    await desk.process(ReplayStatus("AAA", "r1", "stopped", "1d", DAY0))
    assert (await desk.process(bar("AAA", 0, 1, 1, 1, 1, source="replay"))).skipped
    # Live again, and from any time: the replay moved market time around.
    assert not (await desk.process(bar("AAA", 5, 100, 100, 100, 100))).skipped
    async with db.session() as session:
        clock = await session.get(MarketClock, "AAA")
        assert clock is not None
        assert (clock.mode, clock.ts, clock.seq) == (ClockMode.LIVE, DAY0 + 5 * DAY, 3)


async def test_a_quote_fills_at_its_price_and_sets_the_day_close(
    db: Database, settings: Settings
) -> None:
    desk = Desk(db, settings)
    user = await create_user(db)
    account = await open_account(db, user.id)
    await desk.process(bar("AAA", 0, 100, 100, 99, 99))
    order_id = await place(db, settings, account, "AAA", "buy", "3")
    quote = MarketEvent("quote", "AAA", None, DAY0 + DAY + 3600, 0, 0, 0, 101.25, 0)
    assert (await desk.process(quote)).fills == 1
    [fill] = await fills_of(db, order_id)
    assert fill.price == Decimal("101.25")
    assert (await order_row(db, order_id)).filled_qty == 3
    async with db.session() as session:
        clock = await session.get(MarketClock, "AAA")
        assert clock is not None
        assert (clock.last_price, clock.prev_close) == (Decimal("101.25"), Decimal(99))
    await check_books(db, account)
