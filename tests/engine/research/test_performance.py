"""Performance over periods; volatility and drawdown from the backtest engine's statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quantdesk.engine.research.performance import DAY, performance


def test_returns_over_calendar_periods_and_drawdown() -> None:
    ts = np.arange(400, dtype=np.int64) * DAY
    close = np.linspace(100.0, 499.0, 400)
    close[200:210] = 50.0  # a crash: drawdown 50 / peak
    result = performance(ts, close)
    assert result.returns_pct["1m"] == pytest.approx((close[-1] / close[-31] - 1) * 100)
    assert result.returns_pct["1y"] == pytest.approx((close[-1] / close[-366] - 1) * 100)
    assert result.returns_pct["3y"] is None  # longer than the history
    assert result.returns_pct["max"] == pytest.approx(399.0)
    peak = close[199]
    assert result.max_drawdown_pct == pytest.approx((1 - 50.0 / peak) * 100)
    assert result.bars_per_year == pytest.approx(365.0, abs=1)


def test_volatility_is_the_engine_formula() -> None:
    """backtesting.py's annualised volatility (engine/backtest/stats.py): the dispersion of a
    P-bar compounded return, sqrt((var + (1+g)^2)^P - (1+g)^(2P))."""
    rng = np.random.default_rng(7)
    close = 100 * np.cumprod(1 + rng.normal(0.0, 0.01, 800))
    ts = np.arange(800, dtype=np.int64) * DAY
    result = performance(ts, close)
    periods = result.bars_per_year
    window = close[-int(periods) - 1 :]
    r = window[1:] / window[:-1] - 1
    g = (window[-1] / window[0]) ** (1 / r.size) - 1
    expected = math.sqrt((r.var(ddof=1) + (1 + g) ** 2) ** periods - (1 + g) ** (2 * periods))
    assert result.volatility_1y_pct == pytest.approx(expected * 100, rel=1e-9)
