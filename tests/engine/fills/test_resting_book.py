"""RestingBook (the fast path for many resting orders) fills exactly like match_orders."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from quantdesk.engine.fills import BarPrices, FillModel, OrderState, RestingBook, q8
from tests.support.fills import DAY0, drive

D = Decimal
MODEL = FillModel(D(7), D(5), D("0.5"), None)


def near(rng: np.random.Generator, price: float) -> Decimal:
    return q8(D(repr(float(price * (1 + rng.normal(0, 0.015))))))


def random_sequence(seed: int, size: int) -> tuple[list[BarPrices], list[OrderState], list[int]]:
    """A random walk of bars and gtc orders of every type placed near the price."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, size)))
    open_ = close * np.exp(rng.normal(0.0, 0.004, size))
    high = np.maximum(open_, close) * (1.0 + rng.uniform(0.0, 0.006, size))
    low = np.minimum(open_, close) * (1.0 - rng.uniform(0.0, 0.006, size))
    bars = [
        BarPrices.from_floats(DAY0 + i * 3600, open_[i], high[i], low[i], close[i], 1000.0)
        for i in range(size)
    ]
    orders: list[OrderState] = []
    placed: list[int] = []
    for number in range(size // 2):
        at = int(rng.integers(0, size))
        price = close[max(at - 1, 0)]
        side = "buy" if rng.random() < 0.5 else "sell"
        type_ = ["market", "limit", "limit", "stop", "stop_limit"][int(rng.integers(0, 5))]

        limit = near(rng, price) if type_ in ("limit", "stop_limit") else None
        stop = near(rng, price) if type_ in ("stop", "stop_limit") else None
        qty = D(int(rng.integers(1, 500))) / 4
        orders.append(
            OrderState(f"o{number}", side, type_, "gtc", qty, limit, stop, False, None, D(0))  # type: ignore[arg-type]
        )
        placed.append(at)
    order = sorted(range(len(orders)), key=lambda i: placed[i])  # time priority = placement
    return bars, [orders[i] for i in order], [placed[i] for i in order]


@pytest.mark.parametrize("seed", [1, 2, 3, 20240611])
def test_resting_book_and_match_orders_give_identical_fills(seed: int) -> None:
    bars, orders, placed = random_sequence(seed, 400)
    expected = drive(orders, bars, MODEL, D(10) ** 15, placed_at=placed)
    fills_expected = [
        (e.bar, e.order_id, e.qty, e.price, e.fee) for e in expected.events if e.qty is not None
    ]
    book = RestingBook(MODEL)
    got = []
    for index, bar in enumerate(bars):
        for order, at in zip(orders, placed, strict=True):
            if at == index:
                book.add(order)
        ts, o, h, low, c = bar.ts, bar.open, bar.high, bar.low, bar.close
        for fill in book.on_bar(ts, float(o), float(h), float(low), float(c), 1000.0):
            assert fill.notional == q8(fill.qty * fill.price)
            got.append((index, fill.order_id, fill.qty, fill.price, fill.fee))
    assert len(fills_expected) > 50  # the sequence exercises the rules
    assert {e.status for e in expected.events} == {"filled"}
    assert got == fills_expected
    assert len(book) == len(expected.open)


def test_resting_book_takes_gtc_orders_under_an_uncapped_model_only() -> None:
    with pytest.raises(ValueError, match="uncapped"):
        RestingBook(FillModel(D(0), D(0), D(0), D("0.1")))
    day = OrderState("a", "buy", "limit", "day", D(1), D(1), None, False, None, D(0))
    with pytest.raises(ValueError, match="gtc"):
        RestingBook(MODEL).add(day)


def test_a_bar_between_the_best_prices_fills_nothing() -> None:
    book = RestingBook(MODEL)
    book.add(OrderState("b", "buy", "limit", "gtc", D(1), D(99), None, False, None, D(0)))
    book.add(OrderState("s", "sell", "limit", "gtc", D(1), D(101), None, False, None, D(0)))
    assert book.on_bar(DAY0, 100.0, 100.5, 99.5, 100.0, 0.0) == []
    assert len(book) == 2
    fills = book.on_bar(DAY0 + 60, 100.0, 101.0, 99.5, 100.0, 0.0)
    assert [(f.order_id, f.price) for f in fills] == [("s", D(101))]
    assert len(book) == 1


def test_a_low_that_rounds_onto_the_limit_fills_in_both() -> None:
    """Bars are quantized to 8 decimals: a float low of 99.000000004 is 99.00000000 and
    reaches a 99 limit; the float fast path must not skip it."""
    buy = OrderState("b", "buy", "limit", "gtc", D(1), D(99), None, False, None, D(0))
    book = RestingBook(MODEL)
    book.add(buy)
    fills = book.on_bar(DAY0, 100.0, 100.5, 99.000000004, 100.0, 0.0)
    bar = BarPrices.from_floats(DAY0, 100.0, 100.5, 99.000000004, 100.0, 0.0)
    expected = drive([buy], [bar], MODEL, D(10) ** 9).events
    assert [(f.order_id, f.price) for f in fills] == [(e.order_id, e.price) for e in expected]
    assert [f.price for f in fills] == [D(99)]
