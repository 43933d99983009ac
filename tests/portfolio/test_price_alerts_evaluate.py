"""price_alert_service.evaluate, the desk's call for each market event: conditions, once vs
every_bar, no crossing without a previous sample, expiry by market time, one firing per
(alert, bar time) however often an event is delivered."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from quantdesk.db import Database
from quantdesk.models.watch import PriceAlert, PriceAlertStatus, PriceAlertTrigger
from quantdesk.portfolio.alerts import price_alert_service
from quantdesk.portfolio.events import AlertTriggered
from quantdesk.portfolio.watch_schemas import PriceAlertCreate
from tests.support.accounts import create_user
from tests.support.paper_alerts import stock

DAY = 86_400
T0 = 1_704_067_200  # 2024-01-01T00:00:00Z: market time, long before the wall clock


async def new_alert(db: Database, user_id: int, **fields: object) -> str:
    body = PriceAlertCreate.model_validate({"symbol": "GOOG", "level": "100", **fields})
    async with db.session() as session:
        alert = await price_alert_service.create(session, user_id=user_id, body=body)
        return alert.id


async def event(db: Database, ts: int, price: str, symbol: str = "GOOG") -> list[AlertTriggered]:
    async with db.session() as session:
        return await price_alert_service.evaluate(
            session, symbol=symbol, ts=ts, price=Decimal(price)
        )


async def stored(db: Database, alert_id: str) -> PriceAlert:
    async with db.session() as session:
        alert = await session.get(PriceAlert, alert_id)
        assert alert is not None
        return alert


@pytest.fixture
async def user_id(db: Database) -> int:
    await stock(db, "GOOG")
    await stock(db, "MSFT")
    return (await create_user(db)).id


CASES = [
    # condition, frequency, prices of successive events, which fire, final status
    ("above", "once", ["99", "100", "101"], [0, 1, 0], "triggered"),
    ("above", "every_bar", ["99", "100", "101", "98"], [0, 1, 1, 0], "active"),
    ("above", "once", ["100.00000001"], [1], "triggered"),
    ("below", "once", ["101", "100", "99"], [0, 1, 0], "triggered"),
    ("below", "every_bar", ["101", "99", "98", "102"], [0, 1, 1, 0], "active"),
    # A crossing needs a previous sample: the first event never fires one.
    ("crossing_up", "once", ["101", "102"], [0, 0], "active"),
    ("crossing_down", "once", ["99", "98"], [0, 0], "active"),
    ("crossing_up", "once", ["99", "101", "99", "101"], [0, 1, 0, 0], "triggered"),
    # every_bar fires on each crossing; touching the level from below is a crossing up.
    (
        "crossing_up",
        "every_bar",
        ["99", "101", "99", "100", "100", "101"],
        [0, 1, 0, 1, 0, 0],
        "active",
    ),
    ("crossing_down", "every_bar", ["101", "99", "101", "100", "99"], [0, 1, 0, 1, 0], "active"),
    ("crossing_down", "once", ["100", "99"], [0, 0], "active"),
]


@pytest.mark.parametrize(("condition", "frequency", "prices", "expected", "status"), CASES)
async def test_conditions_and_frequencies(
    db: Database,
    user_id: int,
    condition: str,
    frequency: str,
    prices: list[str],
    expected: list[int],
    status: str,
) -> None:
    alert_id = await new_alert(db, user_id, condition=condition, frequency=frequency)
    fired = []
    for index, price in enumerate(prices):
        ts = T0 + index * DAY
        payloads = await event(db, ts, price)
        fired.append(len(payloads))
        for payload in payloads:
            assert payload == AlertTriggered(
                user_id=user_id,
                alert_id=alert_id,
                symbol="GOOG",
                condition=condition,
                level="100.00",
                price=payload.price,
                bar_ts=ts,
            )
            assert Decimal(payload.price) == Decimal(price)
    assert fired == expected
    alert = await stored(db, alert_id)
    assert alert.status == status
    assert alert.trigger_count == sum(expected)
    assert alert.last_price == Decimal(prices[-1]) or alert.status == "triggered"


async def test_each_evaluated_alert_remembers_the_price_and_other_symbols_are_untouched(
    db: Database, user_id: int
) -> None:
    quiet = await new_alert(db, user_id, condition="above", level="500")
    other = await new_alert(db, user_id, symbol="MSFT", condition="above", level="1")
    assert await event(db, T0, "123.45") == []
    assert (await stored(db, quiet)).last_price == Decimal("123.45")
    untouched = await stored(db, other)
    assert untouched.last_price is None and untouched.trigger_count == 0


async def test_an_event_delivered_twice_fires_once(db: Database, user_id: int) -> None:
    every = await new_alert(db, user_id, condition="above", frequency="every_bar")
    once = await new_alert(db, user_id, condition="above", frequency="once")
    first = await event(db, T0, "105")
    assert {p.alert_id for p in first} == {every, once}
    assert await event(db, T0, "105") == []
    async with db.session() as session:
        counts = dict(
            (
                await session.execute(
                    select(PriceAlertTrigger.alert_id, func.count()).group_by(
                        PriceAlertTrigger.alert_id
                    )
                )
            ).all()
        )
    assert counts == {every: 1, once: 1}
    assert (await stored(db, every)).trigger_count == 1
    # The next bar fires the every_bar alert again; the once alert is done.
    assert [p.alert_id for p in await event(db, T0 + DAY, "106")] == [every]


async def test_expiry_is_by_market_time(db: Database, user_id: int) -> None:
    # Expired by the wall clock long ago, but not yet at the replayed market time.
    expires = "2024-01-02T00:00:00Z"
    alert_id = await new_alert(
        db, user_id, condition="above", frequency="every_bar", expires_at=expires
    )
    assert len(await event(db, T0, "101")) == 1
    assert len(await event(db, T0 + DAY, "101")) == 1  # at expires_at: still live
    assert await event(db, T0 + 2 * DAY, "101") == []  # after it: expired, not evaluated
    alert = await stored(db, alert_id)
    assert alert.status == PriceAlertStatus.EXPIRED
    assert alert.trigger_count == 2
    assert alert.last_price == Decimal("101")
    assert alert.last_triggered_at == datetime(2024, 1, 2, tzinfo=UTC)
    assert await event(db, T0 + 3 * DAY, "101") == []


async def test_thousands_of_alerts_on_one_symbol_evaluate_in_chunks(
    db: Database, user_id: int
) -> None:
    # 4,200 firings x 8 columns is past the 32,767 arguments asyncpg takes per statement.
    count = 4_200
    async with db.session() as session:
        session.add_all(
            PriceAlert(
                id=f"{index:032x}",
                user_id=user_id,
                symbol="GOOG",
                condition="above",
                level=Decimal(index % 50 + 1),
                frequency="every_bar",
                status="active",
            )
            for index in range(count)
        )
    assert len(await event(db, T0, "100")) == count
    assert await event(db, T0, "100") == []
    async with db.session() as session:
        recorded = await session.scalar(select(func.count()).select_from(PriceAlertTrigger))
        priced = await session.scalar(
            select(func.count()).where(PriceAlert.last_price == Decimal(100))
        )
    assert recorded == count and priced == count
