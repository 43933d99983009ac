"""Signal strategies on the genuine GOOG series: no look-ahead, triggers equal to TA-Lib
crossings, confidence and levels as documented."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from quantdesk.engine.signals import (
    OHLCV,
    STRATEGIES,
    BollingerBreakout,
    Direction,
    MacdCross,
    MaCross,
    RiskModel,
    RsiReversal,
    SignalRun,
    get_strategy,
)
from quantdesk.engine.signals.base import confidence
from tests.support.ohlcv import OHLCV as Columns

READY_FROM = 100  # past every warm-up (ATR 14 + its 50-bar average, SMA 50, MACD 33)


@pytest.fixture(scope="module")
def goog(datasets: dict[str, Columns]) -> OHLCV:
    return OHLCV.of(*datasets["goog"])


@pytest.fixture(scope="module")
def full_runs(goog: OHLCV) -> dict[str, SignalRun]:
    return {name: strategy.run(goog) for name, strategy in STRATEGIES.items()}


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_signals_on_truncated_history_equal_the_full_run(
    name: str, goog: OHLCV, full_runs: dict[str, SignalRun]
) -> None:
    """No look-ahead: what a strategy says at bar t never depends on bars after t."""
    full = full_runs[name]
    assert (full.direction == 1).sum() >= 10 and (full.direction == -1).sum() >= 10
    cutoffs = sorted({*range(40, len(goog), 173), *full.signal_bars()[::9] + 1})
    for t in cutoffs:
        part = STRATEGIES[name].run(goog.head(t))
        for column in ("direction", "confidence", "entry", "target", "stop"):
            np.testing.assert_array_equal(
                getattr(part, column), getattr(full, column)[:t], err_msg=f"{column} at t={t}"
            )
        if part.direction[-1]:
            assert part.latest() == full.at(t - 1)


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_a_changed_future_does_not_change_past_signals(name: str, goog: OHLCV) -> None:
    t = 1200
    rng = np.random.default_rng(3)
    shock = np.ones(len(goog))
    shock[t:] = np.exp(np.cumsum(rng.normal(0, 0.05, len(goog) - t)))
    volume = goog.volume.copy()
    volume[t:] = volume[t:][::-1]
    altered = OHLCV.of(
        goog.open * shock, goog.high * shock, goog.low * shock, goog.close * shock, volume
    )
    before = STRATEGIES[name].run(goog)
    after = STRATEGIES[name].run(altered)
    np.testing.assert_array_equal(before.direction[:t], after.direction[:t])
    np.testing.assert_array_equal(before.confidence[:t], after.confidence[:t])
    assert not np.array_equal(before.direction, after.direction)  # the change was real


def _crossings(a: np.ndarray, up: np.ndarray | float, down: np.ndarray | float) -> np.ndarray:
    """Independent reference: +1 where a crosses above `up`, -1 below `down`."""
    up_b, down_b = np.broadcast_to(up, a.shape), np.broadcast_to(down, a.shape)
    out = np.zeros(a.size, dtype=np.int8)
    previous, current = slice(None, -1), slice(1, None)
    out[1:][(a[previous] < up_b[previous]) & (a[current] > up_b[current])] = 1
    out[1:][(a[previous] > down_b[previous]) & (a[current] < down_b[current])] = -1
    return out


def _reference_triggers(name: str, bars: OHLCV) -> np.ndarray:
    close = bars.close
    if name == "rsi_reversal":
        return _crossings(talib.RSI(close, 14), 30.0, 70.0)
    if name == "macd_cross":
        line, signal, _ = talib.MACD(close, 12, 26, 9)
        return _crossings(line, signal, signal)
    upper, _, lower = talib.BBANDS(close, 20, 2.0, 2.0)
    if name == "bb_breakout":
        return _crossings(close, upper, lower)
    if name == "bb_reversion":
        return _crossings(close, lower, upper)
    if name == "sma_cross":
        slow = talib.SMA(close, 50)
        return _crossings(talib.SMA(close, 20), slow, slow)
    assert name == "ema_cross"
    slow = talib.EMA(close, 21)
    return _crossings(talib.EMA(close, 9), slow, slow)


@pytest.mark.parametrize("name", [n for n in STRATEGIES if n != "composite"])
def test_triggers_are_talib_crossings(
    name: str, goog: OHLCV, full_runs: dict[str, SignalRun]
) -> None:
    expected = _reference_triggers(name, goog)
    np.testing.assert_array_equal(full_runs[name].direction[READY_FROM:], expected[READY_FROM:])


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_levels_and_confidence_follow_the_documented_formula(
    name: str, goog: OHLCV, full_runs: dict[str, SignalRun]
) -> None:
    run = full_runs[name]
    bars = run.signal_bars()
    side = run.direction[bars].astype(np.float64)
    atr = talib.ATR(goog.high, goog.low, goog.close, 14)
    close = goog.close
    np.testing.assert_allclose(run.entry[bars], close[bars])
    np.testing.assert_allclose(run.stop[bars], close[bars] - side * 1.5 * atr[bars], rtol=1e-12)
    np.testing.assert_allclose(run.target[bars], close[bars] + side * 3.0 * atr[bars], rtol=1e-12)

    move = (close[bars] - close[bars - 1]) * side / atr[bars]
    np.testing.assert_allclose(run.strength[bars], np.clip(move / 2.0, 0, 1), atol=1e-12)
    relative = atr / talib.SMA(atr, 50)
    np.testing.assert_allclose(
        run.volatility[bars], np.clip(1.5 - relative[bars], 0, 1), atol=1e-12
    )
    parts = (run.agreement[bars], run.strength[bars], run.volatility[bars])
    assert all(((p >= 0) & (p <= 1)).all() for p in parts)
    expected = np.round(100 * (0.5 * parts[0] + 0.3 * parts[1] + 0.2 * parts[2]), 1)
    np.testing.assert_array_equal(run.confidence[bars], expected)
    assert np.isnan(run.confidence[run.direction == 0]).all()
    if name != "composite":  # trigger plus three confirmations
        assert set(np.unique(run.agreement[bars])) <= {0.25, 0.5, 0.75, 1.0}


def test_rationale_names_the_trigger_and_the_confirmations_held(goog: OHLCV) -> None:
    run = RsiReversal().run(goog)
    rsi = talib.RSI(goog.close, 14)
    for bar in run.signal_bars():
        signal = run.at(int(bar))
        assert signal is not None
        trigger, *confirmations = signal.rationale
        word = "above oversold 30" if signal.direction is Direction.LONG else "below overbought 70"
        assert f"RSI(14) crossed {word}" in trigger.text
        assert trigger.value == pytest.approx(rsi[bar], rel=1e-9)
        # agreement counts exactly the confirmations listed
        assert signal.agreement == (1 + len(confirmations)) / 4
        assert all(c.name in {"reverting_side", "candle", "macd_turn"} for c in confirmations)


def test_wider_risk_model_moves_levels_not_signals(goog: OHLCV) -> None:
    base = MacdCross().run(goog)
    wide = MacdCross().run(goog, RiskModel(stop_atr=3.0, target_atr=6.0))
    np.testing.assert_array_equal(base.direction, wide.direction)
    bars = base.signal_bars()
    np.testing.assert_allclose(
        wide.target[bars] - wide.entry[bars], 2 * (base.target[bars] - base.entry[bars])
    )


def test_short_or_flat_history_gives_no_signal() -> None:
    price = np.full(300, 10.0)
    flat = OHLCV.of(price, price, price, price, np.full(300, 1e3))
    two = np.array([1.0, 2.0])
    tiny = OHLCV.of(two, two, two, two, two)
    for strategy in STRATEGIES.values():
        assert strategy.run(flat).signal_bars().size == 0
        assert strategy.run(tiny).latest() is None
        assert strategy.run(tiny.head(0)).latest() is None


def test_bad_parameters_and_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="fast must be shorter"):
        MaCross(50, 20)
    with pytest.raises(ValueError, match="oversold"):
        RsiReversal(oversold=80, overbought=70)
    with pytest.raises(ValueError, match="nbdev"):
        BollingerBreakout(nbdev=0)
    with pytest.raises(ValueError, match="same length"):
        OHLCV.of([1.0], [1.0], [1.0], [1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="finite"):
        OHLCV.of([1.0], [np.nan], [1.0], [1.0], [1.0])
    with pytest.raises(ValueError, match="unknown strategy"):
        get_strategy("astrology")


def test_confidence_is_bounded() -> None:
    assert confidence(1.0, 1.0, 1.0).item() == 100.0
    assert confidence(0.25, 0.0, 0.0).item() == 12.5
