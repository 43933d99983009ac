"""Pure pieces: the EMA crossover against TA-Lib, the strategy registry, annualization
defaults, JSON safety and equity downsampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
import talib

from quantdesk.backtest.compute import default_periods_per_year, equity_view, json_safe
from quantdesk.backtest.strategies import STRATEGIES, build_strategy, validate_params
from quantdesk.engine.backtest import SmaCross
from quantdesk.engine.backtest.ema import EmaCross
from quantdesk.errors import Unprocessable
from quantdesk.kit.timeframes import Timeframe
from quantdesk.models import AssetClass
from tests.support.backtests import goog_bars


def test_ema_cross_targets_follow_talib_ema_crosses() -> None:
    bars = goog_bars()
    fast, slow = talib.EMA(bars.close, 8), talib.EMA(bars.close, 30)
    target = EmaCross(8, 30).target(bars)
    up = (fast[:-1] < slow[:-1]) & (fast[1:] > slow[1:])
    down = (fast[:-1] > slow[:-1]) & (fast[1:] < slow[1:])
    crosses = np.flatnonzero(up | down) + 1
    assert crosses.size > 20
    assert (target[: crosses[0]] == 0).all()
    for index in crosses:
        assert target[index] == (1 if up[index - 1] else -1)
    # Between crosses the target holds.
    assert np.count_nonzero(np.diff(target)) == crosses.size
    assert EmaCross(8, 30).warmup_bars == 29


@pytest.mark.parametrize("period", [0, -3, True, 2.5])
def test_ema_cross_rejects_bad_periods(period: object) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        EmaCross(period, 30)  # type: ignore[arg-type]


def test_registry_fills_defaults_and_builds_engine_strategies() -> None:
    assert validate_params("sma_cross", {}) == {"fast": 10, "slow": 20}
    assert validate_params("ema_cross", {"slow": 50}) == {"fast": 12, "slow": 50}
    assert build_strategy("sma_cross", {"fast": 5, "slow": 9}) == SmaCross(5, 9)
    assert build_strategy("ema_cross", {"fast": 5, "slow": 9}) == EmaCross(5, 9)
    assert STRATEGIES["sma_cross"].sweepable and not STRATEGIES["ema_cross"].sweepable


def test_registry_names_each_bad_parameter() -> None:
    with pytest.raises(Unprocessable) as caught:
        validate_params("sma_cross", {"fast": 0, "speed": 3})
    assert {tuple(e["loc"]) for e in caught.value.errors or []} == {
        ("body", "params", "fast"),
        ("body", "params", "speed"),
    }


@pytest.mark.parametrize(
    ("timeframe", "asset_class", "expected"),
    [
        (Timeframe.D1, AssetClass.EQUITY, 252.0),
        (Timeframe.H1, AssetClass.EQUITY, 252.0 * 6.5),
        (Timeframe.H1, AssetClass.FX, 260.0 * 24),
        (Timeframe.M15, AssetClass.CRYPTO, 365.0 * 96),
        (Timeframe.D1, AssetClass.CRYPTO, 365.0),
        (Timeframe.W1, AssetClass.FX, 52.0),
        (Timeframe.MN1, AssetClass.CRYPTO, 12.0),
    ],
)
def test_default_periods_per_year(
    timeframe: Timeframe, asset_class: AssetClass, expected: float
) -> None:
    assert default_periods_per_year(timeframe, asset_class) == expected


def test_json_safe_keeps_infinity_distinct_from_undefined() -> None:
    value = {"a": [math.inf, -math.inf, math.nan, 1.5], "b": {"c": None, "d": 2}}
    assert json_safe(value) == {"a": ["Infinity", "-Infinity", None, 1.5], "b": {"c": None, "d": 2}}


def test_equity_view_downsamples_and_keeps_the_deepest_point() -> None:
    equity = [100.0 + i for i in range(1_000)]
    equity[613] = 10.0  # a crash between sampled bars
    view = equity_view(list(range(1_000)), equity, points=20)
    assert len(view["t"]) <= 20 and view["t"][-1] == "1970-01-01T00:16:39Z"
    assert min(view["equity"]) == 10.0
    assert max(view["drawdown_pct"]) == pytest.approx((1 - 10.0 / 712.0) * 100)
    full = equity_view([0, 1, 2], [100.0, 50.0, 100.0], points=None)
    assert full["drawdown_pct"] == [0.0, 50.0, 0.0]
