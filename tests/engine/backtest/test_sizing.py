"""Position sizing: all-in whole units as backtesting.py, or a fixed fraction of equity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quantdesk.engine.backtest import BacktestConfig, run_backtest

PRICES = np.full(6, 100.0)
LONG = np.array([0, 1, 1, 1, 1, 1])


@pytest.mark.parametrize(
    ("settings", "units"),
    [
        # floor(cash * (1 - eps) / price): an exact multiple buys one unit less,
        # exactly as backtesting.py's default buy() does.
        ({}, 99.0),
        ({"commission": 0.001}, math.floor(10_000 * (1 - 2**-52) / 100.1)),
        ({"sizing": "fraction", "fraction": 0.5}, 50.0),
        ({"sizing": "fraction", "fraction": 0.5, "whole_units": False}, 50.0),
        ({"sizing": "fraction", "fraction": 0.25, "commission": 0.01, "whole_units": False},
         2500 / 101),
    ],
)  # fmt: skip
def test_entry_units(settings: dict[str, float], units: float) -> None:
    config = BacktestConfig(cash=10_000.0, **settings)  # type: ignore[arg-type]
    result = run_backtest(PRICES, PRICES, PRICES, PRICES, signal=LONG, config=config)
    assert result.open_position is not None
    assert result.open_position.units == pytest.approx(units, rel=1e-12)


def test_commission_is_charged_on_both_sides() -> None:
    prices = np.array([100.0, 100.0, 100.0, 110.0, 110.0, 110.0])
    config = BacktestConfig(cash=10_000.0, commission=0.01)
    result = run_backtest(prices, prices, prices, prices, signal=[0, 1, 1, 0, 0, 0], config=config)
    units = result.trades.units[0]
    expected = units * 100 * 0.01 + units * 110 * 0.01
    assert result.trades.commission[0] == pytest.approx(expected)
    assert result.stats["equity_final"] == pytest.approx(10_000 + units * 10 - expected)
    assert result.stats["commissions"] == pytest.approx(expected)
