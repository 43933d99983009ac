"""The paper desk's fill rules on small candle tables, one row per rule (issue 12)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from quantdesk.engine.fills import (
    DAY_SESSION_ENDED,
    FOK_NOT_FILLED,
    INSUFFICIENT_BUYING_POWER,
    IOC_REMAINDER,
    BarPrices,
    FillModel,
    OrderState,
)
from tests.support.fills import bar, drive, order

Expected = tuple[int, str, str, str | None, str | None, str | None, str | None]


def model(
    slip: str = "0", fee: str = "0", fee_min: str = "0", cap: str | None = None, qd: int = 8
) -> FillModel:
    limit = None if cap is None else Decimal(cap)
    return FillModel(Decimal(slip), Decimal(fee), Decimal(fee_min), limit, qd)


@dataclass(frozen=True)
class Case:
    id: str
    bars: list[BarPrices]
    orders: list[OrderState]
    expected: list[Expected]  # (bar, order, status, qty, price, fee, reason)
    model: FillModel = field(default_factory=model)
    cash: str = "1000000000"
    rest: tuple[str, ...] = ()  # orders still open at the end
    end_cash: str | None = None


B = bar(100, 102, 99, 101, 1000)  # the usual bar: open 100, high 102, low 99, close 101
CAP = model(cap="0.1")

CASES = [
    # market: next open +/- slippage, clamped into [low, high]
    Case("market buy: open + slippage", [B], [order("a", "buy", "market", 10)],
         [(0, "a", "filled", "10", "100.1", "0", None)], model(slip="10")),
    Case("market sell: open - slippage", [B], [order("a", "sell", "market", 10)],
         [(0, "a", "filled", "10", "99.9", "0", None)], model(slip="10")),
    Case("market buy: slippage clamped to the high", [bar(100, 100.05, 99, 100)],
         [order("a", "buy", "market", 10)],
         [(0, "a", "filled", "10", "100.05", "0", None)], model(slip="10")),
    Case("market sell: slippage clamped to the low", [bar(100, 101, 99.95, 100)],
         [order("a", "sell", "market", 10)],
         [(0, "a", "filled", "10", "99.95", "0", None)], model(slip="10")),
    # limit: min(limit, open) for buys, max(limit, open) for sells, never beyond the limit
    Case("limit buy: open below the limit fills at the open", [B],
         [order("a", "buy", "limit", 10, limit=101)],
         [(0, "a", "filled", "10", "100", "0", None)]),
    Case("limit buy: touched fills at the limit, never beyond", [B],
         [order("a", "buy", "limit", 10, limit=99.5)],
         [(0, "a", "filled", "10", "99.5", "0", None)]),
    Case("limit buy: not reached keeps resting", [B],
         [order("a", "buy", "limit", 10, limit=98.99)], [], rest=("a",)),
    Case("limit sell: touched fills at the limit", [B],
         [order("a", "sell", "limit", 10, limit=101.5)],
         [(0, "a", "filled", "10", "101.5", "0", None)]),
    Case("limit sell: gap above the limit fills at the open", [bar(103, 104, 102.5, 103.5)],
         [order("a", "sell", "limit", 10, limit=101)],
         [(0, "a", "filled", "10", "103", "0", None)]),
    Case("limit: no slippage on limit fills", [B], [order("a", "buy", "limit", 10, limit=99.5)],
         [(0, "a", "filled", "10", "99.5", "0", None)], model(slip="50")),
    # stop: the open on a gap through the trigger, else the trigger; then slippage
    Case("stop buy: gap through the stop fills at the open", [bar(103, 104, 102, 103.5)],
         [order("a", "buy", "stop", 10, stop=101)],
         [(0, "a", "filled", "10", "103", "0", None)]),
    Case("stop buy: touched fills at the stop", [B], [order("a", "buy", "stop", 10, stop=101.5)],
         [(0, "a", "filled", "10", "101.5", "0", None)]),
    Case("stop buy: stop + slippage clamped into the bar", [B],
         [order("a", "buy", "stop", 10, stop=101.9)],
         [(0, "a", "filled", "10", "102", "0", None)], model(slip="100")),
    Case("stop sell: gap down through the stop fills at the open", [bar(97, 98, 96, 97.5)],
         [order("a", "sell", "stop", 10, stop=99)],
         [(0, "a", "filled", "10", "97", "0", None)]),
    Case("stop sell: not triggered keeps resting", [B],
         [order("a", "sell", "stop", 10, stop=98.5)], [], rest=("a",)),
    # stop_limit: a limit from the bar after the one that triggers it
    Case("stop-limit: triggered on one bar, fills as a limit from the next",
         [B, bar(101, 101.5, 100.5, 101)],
         [order("a", "buy", "stop_limit", 10, stop=101.5, limit=101.2)],
         [(1, "a", "filled", "10", "101", "0", None)]),
    Case("stop-limit: triggered, limit not reached, keeps resting",
         [B, bar(103, 104, 102, 103)],
         [order("a", "buy", "stop_limit", 10, stop=101.5, limit=101.2)], [], rest=("a",)),
    # participation cap: max_participation x volume per account per bar, time priority
    Case("participation: partial fill, the rest fills on the next bar",
         [B, bar(101, 102, 100, 101, 1000)], [order("a", "buy", "market", 150)],
         [(0, "a", "open", "100", "100", "0", None),
          (1, "a", "filled", "50", "101", "0", None)], CAP),
    Case("participation: the account's orders share the cap in time priority", [B],
         [order("a", "buy", "market", 80), order("b", "sell", "limit", 80, limit=101)],
         [(0, "a", "filled", "80", "100", "0", None),
          (0, "b", "open", "20", "101", "0", None)], CAP, rest=("b",)),
    Case("participation: a quote (volume 0) is never capped", [bar(100, 100, 100, 100, 0)],
         [order("a", "buy", "market", 150)],
         [(0, "a", "filled", "150", "100", "0", None)], CAP),
    Case("participation: the cap rounds down to the quantity precision",
         [bar(100, 102, 99, 101, 1005)], [order("a", "buy", "market", 150)],
         [(0, "a", "open", "100", "100", "0", None)], model(cap="0.1", qd=0), rest=("a",)),
    # ioc / fok: resolved on the first eligible event
    Case("ioc: partial fill, the remainder canceled", [B], [order("a", "buy", "market", 150,
         tif="ioc")], [(0, "a", "canceled", "100", "100", "0", IOC_REMAINDER)], CAP),
    Case("ioc: not reached on its first event, canceled", [B, B],
         [order("a", "buy", "limit", 10, limit=98, tif="ioc")],
         [(0, "a", "canceled", None, None, None, IOC_REMAINDER)]),
    Case("fok: the whole qty does not fit, canceled; the next order gets the volume", [B],
         [order("a", "buy", "market", 150, tif="fok"), order("b", "buy", "market", 60)],
         [(0, "a", "canceled", None, None, None, FOK_NOT_FILLED),
          (0, "b", "filled", "60", "100", "0", None)], CAP),
    Case("fok: the whole qty fits, filled", [B], [order("a", "buy", "market", 100, tif="fok")],
         [(0, "a", "filled", "100", "100", "0", None)], CAP),
    # day: session = UTC date of the first eligible event; a later date expires it first
    Case("day: a bar of a later UTC date expires it before any fill",
         [B, bar(99, 100, 98, 99, day=1)], [order("a", "buy", "limit", 10, limit=98.5,
         tif="day")], [(1, "a", "expired", None, None, None, DAY_SESSION_ENDED)]),
    Case("day: fills on a later bar of the same UTC date",
         [B, bar(99, 100, 98, 99, hour=23)], [order("a", "buy", "limit", 10, limit=98.5,
         tif="day")], [(1, "a", "filled", "10", "98.5", "0", None)]),
    # fees: max(fee_min, notional x fee_bps / 10,000) per fill
    Case("fees: the minimum applies", [B], [order("a", "buy", "market", 1)],
         [(0, "a", "filled", "1", "100", "1", None)], model(fee="10", fee_min="1")),
    Case("fees: bps of the notional above the minimum", [B], [order("a", "buy", "market", 100)],
         [(0, "a", "filled", "100", "100", "10", None)], model(fee="10", fee_min="1")),
    Case("fees: the minimum applies to each partial fill",
         [B, bar(101, 102, 100, 101, 1000)], [order("a", "sell", "market", 150)],
         [(0, "a", "open", "100", "100", "1", None),
          (1, "a", "filled", "50", "101", "1", None)], model(fee_min="1", cap="0.1")),
    # cash: a buy never costs more than its hold + free cash
    Case("cash: fill reduced to what hold + free cash pay, the rest canceled", [B],
         [order("a", "buy", "market", 10, hold=500)],
         [(0, "a", "canceled", "5", "100", "0", INSUFFICIENT_BUYING_POWER)], cash="0",
         end_cash="0"),
    Case("cash: the reduction counts the fee and rounds down to the precision", [B],
         [order("a", "buy", "market", 10)],
         [(0, "a", "canceled", "9", "100", "0.9", INSUFFICIENT_BUYING_POWER)],
         model(fee="10", qd=0), cash="1000", end_cash="99.1"),
    Case("cash: nothing payable cancels the order", [B], [order("a", "buy", "market", 10)],
         [(0, "a", "canceled", None, None, None, INSUFFICIENT_BUYING_POWER)], model(qd=0),
         cash="50", end_cash="50"),
    Case("cash: an earlier fill leaves less for a later order on the same bar", [B],
         [order("a", "buy", "market", 10), order("b", "buy", "market", 10)],
         [(0, "a", "filled", "10", "100", "0", None),
          (0, "b", "canceled", "5", "100", "0", INSUFFICIENT_BUYING_POWER)], cash="1500",
         end_cash="0"),
    Case("cash: a sell's proceeds pay a later buy on the same bar", [B],
         [order("a", "sell", "market", 10), order("b", "buy", "limit", 10, limit=100.5)],
         [(0, "a", "filled", "10", "100", "0", None),
          (0, "b", "filled", "10", "100", "0", None)], cash="0", end_cash="0"),
    Case("cash: a partial fill releases the hold's share, the rest stays held",
         [B, bar(100, 102, 99, 101, 1000)],
         [order("a", "buy", "limit", 150, limit=100, hold=15000)],
         [(0, "a", "open", "100", "100", "0", None),
          (1, "a", "filled", "50", "100", "0", None)], CAP, cash="0", end_cash="0"),
    Case("cash: a sell whose minimum fee exceeds its proceeds needs free cash", [B],
         [order("a", "sell", "market", "0.01")],
         [(0, "a", "canceled", None, None, None, INSUFFICIENT_BUYING_POWER)],
         model(fee_min="5"), cash="0", end_cash="0"),
    Case("quote: a limit buy fills at the quote's price", [bar(99, 99, 99, 99)],
         [order("a", "buy", "limit", 10, limit=100)],
         [(0, "a", "filled", "10", "99", "0", None)]),
]  # fmt: skip


def as_decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_fill_rule(case: Case) -> None:
    run = drive(case.orders, case.bars, case.model, Decimal(case.cash))
    expected = [
        (i, oid, status, as_decimal(qty), as_decimal(price), as_decimal(fee), reason)
        for i, oid, status, qty, price, fee, reason in case.expected
    ]
    assert [tuple(event) for event in run.events] == expected
    assert tuple(o.order_id for o in run.open) == case.rest
    if case.end_cash is not None:
        assert run.cash == Decimal(case.end_cash)
