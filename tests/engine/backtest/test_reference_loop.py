"""The compiled bar loop against a plain-Python statement of the same rules, on random
bars, targets and settings (stops, targets, expiry, slippage, both fill modes, shorts)."""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np
import pytest

from quantdesk.engine.backtest import EXIT_REASONS, BacktestConfig, Bars, simulate
from tests.support.ohlcv import random_ohlcv

EPS = sys.float_info.epsilon


def reference(bars: Bars, target: Any, c: BacktestConfig) -> tuple[list[tuple[Any, ...]], Any]:
    """One bar at a time, written for reading, not speed."""
    o, h, lo, cl = bars.open, bars.high, bars.low, bars.close
    slip, fee = c.slippage, c.commission
    sl = (c.stop_loss_pct or math.nan) / 100
    tp = (c.take_profit_pct or math.nan) / 100
    cash, units, entry, entry_fee, entry_bar = c.cash, 0.0, 0.0, 0.0, 0
    stop = take = math.nan
    trades: list[tuple[Any, ...]] = []
    equity = np.zeros(len(cl))

    def close_at(i: int, price: float, reason: str) -> None:
        nonlocal cash, units
        if reason != "take_profit":
            price *= (1 - slip) if units > 0 else (1 + slip)
        exit_fee = abs(units) * price * fee
        cash += units * (price - entry) - exit_fee
        trades.append((entry_bar, i, units, entry, price, reason))
        units = 0.0

    def move_to(i: int, side: int, price: float) -> None:
        nonlocal cash, units, entry, entry_fee, entry_bar, stop, take
        if units and (side == 0 or (side > 0) != (units > 0)):
            close_at(i, price, "signal")
        if side and not units:
            fill = price * (1 + slip) if side > 0 else price * (1 - slip)
            if c.sizing == "all_in":
                size = (cash * (1 - EPS)) // (fill + ((1 - EPS) * fill * fee) / (1 - EPS))
            else:
                size = cash * c.fraction / (fill * (1 + fee))
                size = math.floor(size) if c.whole_units else size
            if size > 0:
                units, entry, entry_bar = side * size, fill, i
                entry_fee = size * fill * fee
                cash -= entry_fee
                stop, take = fill * (1 - side * sl), fill * (1 + side * tp)

    def levels(i: int) -> None:
        if not units:
            return
        if units > 0 and lo[i] <= stop:
            close_at(i, min(o[i], stop), "stop_loss")
        elif units > 0 and h[i] >= take:
            close_at(i, max(o[i], take), "take_profit")
        elif units < 0 and h[i] >= stop:
            close_at(i, max(o[i], stop), "stop_loss")
        elif units < 0 and lo[i] <= take:
            close_at(i, min(o[i], take), "take_profit")

    def expired(i: int) -> bool:
        return bool(units) and c.max_bars is not None and i - entry_bar >= c.max_bars

    wanted = [int(t) if c.allow_short or t > 0 else 0 for t in target]
    for i in range(len(cl)):
        before = wanted[i - 1] if i else 0
        if c.fill == "next_open":
            if i and wanted[i - 1] != (wanted[i - 2] if i > 1 else 0):
                move_to(i, wanted[i - 1], o[i])
            if expired(i):
                close_at(i, o[i], "expiry")
            levels(i)
        else:
            levels(i)
            if expired(i):
                close_at(i, cl[i], "expiry")
            if wanted[i] != before:
                move_to(i, wanted[i], cl[i])
        equity[i] = cash + (cl[i] * units - units * entry)
        if equity[i] <= 0:
            if units:
                close_at(i, cl[i], "liquidation")
            equity[i:] = 0.0
            break
    return trades, equity


SETTINGS = [
    {},
    {"allow_short": True, "commission": 0.002},
    {"allow_short": True, "stop_loss_pct": 3.0, "take_profit_pct": 6.0},
    {"stop_loss_pct": 2.0, "max_bars": 7, "slippage_bps": 5.0},
    {"fill": "close", "allow_short": True, "stop_loss_pct": 4.0, "max_bars": 5},
    {"fill": "close", "sizing": "fraction", "fraction": 0.3, "whole_units": False},
    {"allow_short": True, "take_profit_pct": 2.0, "max_bars": 3, "commission": 0.001},
]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("settings", SETTINGS, ids=[str(s) or "defaults" for s in SETTINGS])
def test_compiled_loop_matches_plain_python(seed: int, settings: dict[str, Any]) -> None:
    data = random_ohlcv(400, seed=seed)
    bars = Bars.of(data.open, data.high, data.low, data.close)
    rng = np.random.default_rng(seed)
    # Runs of random targets with random lengths: changes at irregular bars.
    runs = np.repeat(rng.integers(-1, 2, 80), rng.integers(1, 10, 80))[:400]
    target = np.pad(runs, (0, 400 - runs.size)).astype(np.int8)
    config = BacktestConfig(cash=100_000.0, **settings)

    sim = simulate(bars, target, config)
    expected, equity = reference(bars, target, config)
    got = [
        (
            int(sim.trades.entry_bar[k]),
            int(sim.trades.exit_bar[k]),
            float(sim.trades.units[k]),
            float(sim.trades.entry_price[k]),
            float(sim.trades.exit_price[k]),
            EXIT_REASONS[sim.trades.exit_reason[k]],
        )
        for k in range(len(sim.trades))
    ]
    assert got == expected
    np.testing.assert_allclose(sim.equity, equity, rtol=1e-12)
