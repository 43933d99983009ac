"""Driving the paper-desk fill engine over a few bars, as the portfolio service would:
orders in time priority, one ``match_orders`` call per bar, outcomes applied."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from quantdesk.engine.fills import (
    AccountBook,
    BarPrices,
    FillModel,
    OrderState,
    Side,
    match_orders,
)

DAY0 = 1704153600  # 2024-01-02 00:00 UTC


def bar(
    o: float, h: float, low: float, c: float, v: float = 0.0, *, day: int = 0, hour: int = 0
) -> BarPrices:
    """A bar opening ``day`` days and ``hour`` hours after 2024-01-02 00:00 UTC."""
    return BarPrices.from_floats(DAY0 + day * 86_400 + hour * 3_600, o, h, low, c, v)


def order(
    order_id: str,
    side: Side,
    type: str,
    qty: str | int,
    *,
    limit: str | float | None = None,
    stop: str | float | None = None,
    tif: str = "gtc",
    hold: str | int = 0,
    triggered: bool = False,
) -> OrderState:
    return OrderState(
        order_id,
        side,
        type,  # type: ignore[arg-type]
        tif,  # type: ignore[arg-type]
        Decimal(qty),
        None if limit is None else Decimal(str(limit)),
        None if stop is None else Decimal(str(stop)),
        triggered,
        None,
        Decimal(hold),
    )


class Event(NamedTuple):
    """What happened to an order on bar ``bar``: a fill (qty, price, fee) and/or its end."""

    bar: int
    order_id: str
    status: str
    qty: Decimal | None
    price: Decimal | None
    fee: Decimal | None
    reason: str | None


class Run(NamedTuple):
    events: list[Event]
    cash: Decimal  # free cash at the end
    open: list[OrderState]  # orders still resting at the end


def drive(
    orders: Sequence[OrderState],
    bars: Sequence[BarPrices],
    model: FillModel,
    cash: Decimal,
    *,
    placed_at: Sequence[int] | None = None,
) -> Run:
    """Match ``orders`` bar by bar; order i joins before bar ``placed_at[i]`` (default 0).

    Checks on the way that each fill lies within its bar's [low, high], that free cash
    never goes negative, and that holds never go negative."""
    joins = list(placed_at) if placed_at is not None else [0] * len(orders)
    resting: list[OrderState] = []
    events: list[Event] = []
    for index, current in enumerate(bars):
        resting += [o for o, at in zip(orders, joins, strict=True) if at == index]
        outcomes = match_orders(resting, current, AccountBook(cash, model))
        assert [o.order_id for o in outcomes] == [o.order_id for o in resting]
        still: list[OrderState] = []
        for state, outcome in zip(resting, outcomes, strict=True):
            fill = outcome.fill
            hold = state.hold - outcome.hold_release
            assert hold >= 0
            cash += outcome.hold_release
            filled = Decimal(0)
            if fill is not None:
                assert current.low <= fill.price <= current.high
                filled = fill.qty
                cash += -fill.notional if state.side == "buy" else fill.notional
                cash -= fill.fee
            assert cash >= 0, (index, state.order_id, cash)
            if outcome.status == "open":
                assert outcome.reason is None
                still.append(
                    dataclasses.replace(
                        state,
                        qty=state.qty - filled,
                        triggered=outcome.triggered,
                        session_date=outcome.session_date,
                        hold=hold,
                    )
                )
            else:
                assert outcome.hold_release == state.hold  # an ended order releases it all
            if fill is not None or outcome.status != "open":
                events.append(
                    Event(
                        index,
                        state.order_id,
                        outcome.status,
                        None if fill is None else fill.qty,
                        None if fill is None else fill.price,
                        None if fill is None else fill.fee,
                        outcome.reason,
                    )
                )
        resting = still
    return Run(events, cash, resting)
