"""The fill engine's part of the desk benchmark: a seeded random-walk replay and a grid of
resting limit orders kept at a constant size, run through ``RestingBook``, and the same
bar loop doing only a plain comparison per bar (the reference)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from quantdesk.engine.fills import (
    AccountBook,
    BarPrices,
    FillModel,
    OrderState,
    RestingBook,
    match_orders,
    q8,
)

START_TS = 1_577_836_800  # 2020-01-01 00:00 UTC, hourly bars from there
START_PRICE = Decimal(100)
MODEL = FillModel(Decimal(5), Decimal(0), Decimal(0), None)  # equity slippage; uncapped

Columns = tuple[list[int], list[float], list[float], list[float], list[float], list[float]]


def make_replay(bars: int, seed: int) -> Columns:
    """``bars`` hourly bars: geometric random-walk closes (0.2 % per bar), opens near the
    previous close, wicks up to 0.1 %, as Python lists (what a replay hands the desk)."""
    rng = np.random.default_rng(seed)
    close = float(START_PRICE) * np.exp(np.cumsum(rng.normal(0.0, 0.002, bars)))
    previous = np.concatenate([[float(START_PRICE)], close[:-1]])
    open_ = previous * np.exp(rng.normal(0.0, 0.0005, bars))
    high = np.maximum(open_, close) * (1.0 + rng.uniform(0.0, 0.001, bars))
    low = np.minimum(open_, close) * (1.0 - rng.uniform(0.0, 0.001, bars))
    volume = rng.integers(100, 10_000, bars).astype(np.float64)
    ts = (START_TS + 3_600 * np.arange(bars, dtype=np.int64)).tolist()
    return ts, open_.tolist(), high.tolist(), low.tolist(), close.tolist(), volume.tolist()


@dataclass(frozen=True)
class GridRun:
    seconds: float  # wall clock of the bar loop (order placement inside it included)
    cpu_seconds: float  # CPU time of this thread over the same loop
    bars: int
    fills: int
    resting: int  # orders resting at the end (constant: every fill is replaced)


class Grid:
    """``orders`` resting limit orders of 1 unit, half buys below the start price and
    half sells above it, ``step`` apart (geometric). Each fill is replaced at once by an
    order of the other side one step away (a buy filled at L re-places a sell at
    L x (1 + step)), so the book always holds ``orders`` orders."""

    def __init__(self, orders: int, step: Decimal) -> None:
        self.book = RestingBook(MODEL)
        self.up = 1 + step
        self.limits: dict[str, OrderState] = {}
        self.count = 0
        for k in range(1, orders // 2 + 1):
            self.place("buy", START_PRICE / self.up**k)
            self.place("sell", START_PRICE * self.up**k)

    def place(self, side: str, limit: Decimal) -> None:
        self.count += 1
        order = OrderState(
            f"g{self.count}", side, "limit", "gtc", Decimal(1), q8(limit), None, False, None,  # type: ignore[arg-type]
            Decimal(0),
        )  # fmt: skip
        self.limits[order.order_id] = order
        self.book.add(order)

    def replay(self, columns: Columns) -> GridRun:
        on_bar, limits, place, up = self.book.on_bar, self.limits, self.place, self.up
        fills = 0
        start, cpu = time.perf_counter(), time.thread_time()
        for ts, open_, high, low, close, volume in zip(*columns, strict=True):
            filled = on_bar(ts, open_, high, low, close, volume)
            if filled:
                fills += len(filled)
                for fill in filled:
                    order = limits.pop(fill.order_id)
                    assert order.limit_price is not None
                    if order.side == "buy":
                        place("sell", order.limit_price * up)
                    else:
                        place("buy", order.limit_price / up)
        seconds, cpu_seconds = time.perf_counter() - start, time.thread_time() - cpu
        return GridRun(seconds, cpu_seconds, len(columns[0]), fills, len(self.book))

    def best_prices(self) -> tuple[float, float]:
        """The highest buy limit and the lowest sell limit, as floats."""
        buys = [o.limit_price for o in self.limits.values() if o.side == "buy"]
        sells = [o.limit_price for o in self.limits.values() if o.side == "sell"]
        return float(max(b for b in buys if b is not None)), float(
            min(s for s in sells if s is not None)
        )


def reference_loop(columns: Columns, best_buy: float, best_sell: float) -> tuple[float, float]:
    """The same bar loop doing only a plain Python comparison per bar (would the best
    buy or the best sell be reached?): the floor any per-bar Python loop pays. Wall
    clock and thread CPU seconds."""
    hits = 0
    start, cpu = time.perf_counter(), time.thread_time()
    for _ts, _open, high, low, _close, _volume in zip(*columns, strict=True):
        if low <= best_buy or high >= best_sell:
            hits += 1
    seconds, cpu_seconds = time.perf_counter() - start, time.thread_time() - cpu
    assert hits >= 0
    return seconds, cpu_seconds


def naive_replay(columns: Columns, orders: int, step: Decimal, bars: int) -> GridRun:
    """The same grid on the first ``bars`` bars through ``match_orders`` with every
    resting order on every bar (no index of prices): what ``RestingBook`` saves."""
    grid = Grid(orders, step)
    resting = list(grid.limits.values())
    book = AccountBook(Decimal(10) ** 15, MODEL)
    fills = 0
    start, cpu = time.perf_counter(), time.thread_time()
    for bar in zip(*(column[:bars] for column in columns), strict=True):
        outcomes = match_orders(resting, BarPrices.from_floats(*bar), book)
        still = [o for o, out in zip(resting, outcomes, strict=True) if out.status == "open"]
        for outcome in outcomes:
            if outcome.fill is None:
                continue
            fills += 1
            order = grid.limits.pop(outcome.order_id)
            assert order.limit_price is not None
            side, limit = (
                ("sell", order.limit_price * grid.up)
                if order.side == "buy"
                else ("buy", order.limit_price / grid.up)
            )
            grid.place(side, limit)
            still.append(grid.limits[f"g{grid.count}"])
        resting = still
    seconds, cpu_seconds = time.perf_counter() - start, time.thread_time() - cpu
    return GridRun(seconds, cpu_seconds, bars, fills, len(resting))
