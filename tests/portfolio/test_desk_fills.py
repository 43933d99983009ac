"""The desk against market events fed straight to `Desk.process` (no bus), on both databases:
fill timing, limit prices, participation, ioc/fok, day expiry, fees, re-delivery, replay."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.models.portfolio import OrderStatus
from quantdesk.portfolio import ledger
from quantdesk.portfolio.desk import Desk
from tests.support.accounts import create_user
from tests.support.paper_desk import (
    FRICTIONLESS,
    bar,
    books,
    check_books,
    fills_of,
    lots_of,
    open_account,
    order_row,
    place,
    position_of,
    replay_started,
)

D = Decimal


@pytest.fixture
def desk(db: Database, settings: Settings) -> Desk:
    return Desk(db, settings)


async def account(db: Database, cash: str = "100000", **fill_model: object) -> str:
    user = await create_user(db)
    return await open_account(db, user.id, cash, fill_model={**FRICTIONLESS, **fill_model})


async def test_market_order_fills_at_the_next_bars_open_never_the_same_bar(
    db: Database, settings: Settings, desk: Desk
) -> None:
    acct = await account(db)
    await desk.process(bar("AAA", 0, 100, 102, 99, 101))
    order_id = await place(db, settings, acct, "AAA", "buy", "10")
    assert (await desk.process(bar("AAA", 0, 100, 102, 99, 101))).skipped  # same bar again
    assert await fills_of(db, order_id) == []
    applied = await desk.process(bar("AAA", 1, 103, 105, 102, 104))
    assert applied.fills == 1
    [fill] = await fills_of(db, order_id)
    assert (fill.qty, fill.price, fill.market_ts) == (D(10), D(103), bar("AAA", 1, 1, 1, 1, 1).ts)
    order = await order_row(db, order_id)
    assert order.status is OrderStatus.FILLED
    assert (order.filled_qty, order.filled_avg_price, order.hold) == (D(10), D(103), D(0))
    state = await books(db, acct)
    assert (state.cash, state.held) == (D(100000) - D(1030), D(0))
    assert state.legs[ledger.securities("AAA")] == D(1030)
    position = await position_of(db, acct, "AAA")
    assert position is not None and (position.qty, position.cost_basis) == (D(10), D(1030))
    await check_books(db, acct)


@pytest.mark.parametrize(
    ("side", "limit", "prices", "expected"),
    [
        ("buy", "99", (100, 101, 98, 100), D(99)),  # reached inside the bar: at the limit
        ("buy", "99", (97, 98, 96, 97), D(97)),  # opens below the limit: at the open
        ("buy", "95", (100, 101, 96, 100), None),  # never reached
        ("sell", "101", (100, 102, 99, 100), D(101)),
        ("sell", "101", (103, 104, 102, 103), D(103)),
    ],
)
async def test_a_limit_order_never_fills_beyond_its_limit(
    db: Database,
    settings: Settings,
    desk: Desk,
    side: str,
    limit: str,
    prices: tuple[float, float, float, float],
    expected: Decimal | None,
) -> None:
    user = await create_user(db)
    acct = await open_account(db, user.id, allow_short=True)
    await desk.process(bar("AAA", 0, 100, 100, 100, 100))
    order_id = await place(db, settings, acct, "AAA", side, "5", type="limit", limit=limit)
    await desk.process(bar("AAA", 1, *prices))
    fills = await fills_of(db, order_id)
    assert [f.price for f in fills] == ([] if expected is None else [expected])
    await check_books(db, acct)


async def test_participation_cap_fills_in_parts_and_the_rest_waits(
    db: Database, settings: Settings, desk: Desk
) -> None:
    acct = await account(db, max_participation="0.1")
    await desk.process(bar("AAA", 0, 10, 10, 10, 10))
    order_id = await place(db, settings, acct, "AAA", "buy", "25")
    await desk.process(bar("AAA", 1, 10, 10, 10, 10, v=100))
    order = await order_row(db, order_id)
    assert (order.status, order.filled_qty) == (OrderStatus.PARTIALLY_FILLED, D(10))
    await desk.process(bar("AAA", 2, 11, 11, 11, 11, v=100))
    await desk.process(bar("AAA", 3, 12, 12, 12, 12, v=100))
    assert [(f.qty, f.price) for f in await fills_of(db, order_id)] == [
        (D(10), D(10)),
        (D(10), D(11)),
        (D(5), D(12)),
    ]
    order = await order_row(db, order_id)
    assert order.status is OrderStatus.FILLED
    assert order.filled_avg_price == D(270) / D(25)  # 100 + 110 + 60
    assert (await books(db, acct)).held == 0
    await check_books(db, acct)


async def test_ioc_fills_what_it_can_and_fok_all_or_nothing(
    db: Database, settings: Settings, desk: Desk
) -> None:
    acct = await account(db, max_participation="0.1")
    await desk.process(bar("AAA", 0, 10, 10, 10, 10))
    ioc = await place(db, settings, acct, "AAA", "buy", "15", tif="ioc")
    await desk.process(bar("AAA", 1, 10, 10, 10, 10, v=100))
    order = await order_row(db, ioc)
    assert (order.status, order.filled_qty) == (OrderStatus.CANCELED, D(10))
    assert order.reason_detail == "ioc_remainder_canceled" and order.hold == 0
    fok = await place(db, settings, acct, "AAA", "buy", "15", tif="fok")
    await desk.process(bar("AAA", 2, 10, 10, 10, 10, v=100))
    order = await order_row(db, fok)
    assert (order.status, order.filled_qty) == (OrderStatus.CANCELED, D(0))
    assert order.reason_detail == "fok_not_filled"
    state = await books(db, acct)
    assert (state.cash, state.held) == (D(100000) - D(100), D(0))
    await check_books(db, acct)


async def test_a_day_order_expires_on_the_next_days_event_and_releases_its_hold(
    db: Database, settings: Settings, desk: Desk
) -> None:
    acct = await account(db)
    await desk.process(bar("AAA", 0, 100, 100, 100, 100))
    order_id = await place(
        db, settings, acct, "AAA", "buy", "10", type="limit", limit="90", tif="day"
    )
    assert (await books(db, acct)).held == D(900)
    await desk.process(bar("AAA", 1, 100, 101, 95, 100))  # first eligible: session fixed
    assert (await order_row(db, order_id)).status is OrderStatus.NEW
    await desk.process(bar("AAA", 2, 80, 85, 79, 80))  # would fill, but the session ended
    order = await order_row(db, order_id)
    assert (order.status, order.reason_detail) == (OrderStatus.EXPIRED, "day_session_ended")
    assert await fills_of(db, order_id) == []
    state = await books(db, acct)
    assert (state.cash, state.held) == (D(100000), D(0))
    await check_books(db, acct)


async def test_fees_are_booked_per_fill(db: Database, settings: Settings, desk: Desk) -> None:
    acct = await account(db, fee_bps="10", fee_min="1.50")
    await desk.process(bar("AAA", 0, 100, 100, 100, 100))
    small = await place(db, settings, acct, "AAA", "buy", "1")  # 0.10 in bps: the minimum
    big = await place(db, settings, acct, "AAA", "buy", "100")  # 10.00
    await desk.process(bar("AAA", 1, 100, 100, 100, 100))
    assert [f.fee for f in await fills_of(db, small)] == [D("1.5")]
    assert [f.fee for f in await fills_of(db, big)] == [D(10)]
    state = await books(db, acct)
    assert state.legs[ledger.FEES] == D("11.5")
    assert state.cash == D(100000) - D(10100) - D("11.5")
    assert (await order_row(db, big)).fees == D(10)
    await check_books(db, acct)


async def test_a_redelivered_event_changes_nothing(
    db: Database, settings: Settings, desk: Desk
) -> None:
    acct = await account(db)
    await desk.process(bar("AAA", 0, 100, 100, 100, 100))
    order_id = await place(db, settings, acct, "AAA", "buy", "10")
    event = bar("AAA", 1, 101, 102, 100, 101)
    assert (await desk.process(event)).fills == 1
    before = await books(db, acct)
    again = await desk.process(event)
    assert again.skipped and again.fills == 0
    older = await desk.process(bar("AAA", 0, 100, 100, 100, 100))
    assert older.skipped
    assert len(await fills_of(db, order_id)) == 1
    assert await books(db, acct) == before
    await check_books(db, acct)


async def test_two_desks_on_one_event_fill_once(
    db: Database, settings: Settings, desk: Desk
) -> None:
    acct = await account(db)
    await desk.process(bar("AAA", 0, 100, 100, 100, 100))
    order_id = await place(db, settings, acct, "AAA", "buy", "10")
    other = Desk(Database(settings), settings)
    try:
        event = bar("AAA", 1, 101, 102, 100, 101)
        results = await asyncio.gather(desk.process(event), other.process(event))
    finally:
        await other.db.dispose()
    assert sorted(r.fills for r in results) == [0, 1]
    assert len(await fills_of(db, order_id)) == 1
    await check_books(db, acct)


async def test_a_replay_started_after_an_order_fills_it_on_its_first_bar(
    db: Database, settings: Settings, desk: Desk
) -> None:
    acct = await account(db)
    await desk.process(bar("AAA", 30, 200, 200, 200, 200))  # live market time: day 30
    order_id = await place(db, settings, acct, "AAA", "buy", "10")
    await desk.process(replay_started("AAA"))
    assert (await desk.process(bar("AAA", 31, 300, 300, 300, 300))).skipped  # live: ignored
    applied = await desk.process(bar("AAA", 0, 50, 55, 45, 52, source="replay"))
    assert applied.fills == 1
    [fill] = await fills_of(db, order_id)
    assert (fill.price, fill.market_ts) == (D(50), bar("AAA", 0, 1, 1, 1, 1).ts)
    await check_books(db, acct)


async def test_fifo_lots_realize_pnl_oldest_first(
    db: Database, settings: Settings, desk: Desk
) -> None:
    acct = await account(db)
    await desk.process(bar("AAA", 0, 100, 100, 100, 100))
    await place(db, settings, acct, "AAA", "buy", "10")
    await desk.process(bar("AAA", 1, 100, 100, 100, 100))
    await place(db, settings, acct, "AAA", "buy", "10")
    await desk.process(bar("AAA", 2, 110, 110, 110, 110))
    await place(db, settings, acct, "AAA", "sell", "15")
    await desk.process(bar("AAA", 3, 120, 120, 120, 120))
    position = await position_of(db, acct, "AAA")
    assert position is not None
    # 10 x (120 - 100) + 5 x (120 - 110)
    assert (position.qty, position.realized_pnl, position.cost_basis) == (D(5), D(250), D(550))
    assert await lots_of(db, acct, "AAA") == [(D(5), D(110))]
    state = await books(db, acct)
    assert state.legs[ledger.REALIZED_PNL] == D(-250)
    assert state.cash == D(100000) - D(1000) - D(1100) + D(1800)
    await check_books(db, acct)


async def test_a_buy_beyond_the_cash_fills_what_it_can_pay(
    db: Database, settings: Settings, desk: Desk
) -> None:
    acct = await account(db, cash="1000")
    await desk.process(bar("AAA", 0, 100, 100, 100, 100))
    order_id = await place(db, settings, acct, "AAA", "buy", "9")  # holds 900
    await desk.process(bar("AAA", 1, 150, 150, 150, 150))  # gapped up: 9 x 150 > 1000
    order = await order_row(db, order_id)
    # Equities trade in 4 decimals: 6.6666 x 150 = 999.99 of the 1000.
    assert (order.status, order.filled_qty) == (OrderStatus.CANCELED, D("6.6666"))
    assert order.reason_detail == "insufficient_buying_power"
    state = await books(db, acct)
    assert (state.cash, state.held) == (D("0.01"), D(0))
    await check_books(db, acct)
