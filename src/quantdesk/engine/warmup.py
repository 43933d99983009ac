"""Load (or compile) every compiled kernel before the first request needs it.

The numba kernels are compiled with ``cache=True``, but a fresh process still pays, on
the first call of each kernel, for loading its machine code from ``__pycache__`` and
setting up its type specialization - or for compiling it when the on-disk cache is cold.
That lands on whichever request comes first (3-7 s for an indicator set). ``warm_kernels``
pays it up front: it runs every registered indicator, both backtest strategies, the
signal-driven bar loop, the parameter sweep and every signal strategy once on a tiny
synthetic series of the dtypes the API passes (contiguous float64 OHLCV, int64 epoch
seconds, Python ``int``/``float`` parameters), so the specializations it leaves behind
are the ones requests use.

Pure: no I/O, no logging, no module state of its own (numba's dispatchers keep what was
compiled). Safe to run in a background thread while requests are served: numba compiles
under its own lock, and a request needing a kernel being compiled waits for it.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from quantdesk.engine.backtest import Bars, SmaCross, backtest_bars, sweep_sma_cross
from quantdesk.engine.backtest.config import BacktestConfig
from quantdesk.engine.backtest.ema import EmaCross
from quantdesk.engine.indicators.registry import (
    INDICATORS,
    IndicatorDef,
    IndicatorSpec,
    ParamValue,
    compute,
)
from quantdesk.engine.signals import OHLCV, STRATEGIES

#: Bars of the synthetic series: enough for every default warm-up (MACD's 33 bars, the
#: 50-bar trend average, ATR's 50-bar average) to end, so every code path produces values.
WARMUP_BARS: Final = 128

#: Prefixes of the names ``warm_kernels`` returns, one per family of work.
INDICATOR: Final = "indicator:"
BACKTEST: Final = "backtest:"
SIGNAL: Final = "signal:"


def synthetic_bars(size: int = WARMUP_BARS) -> OHLCV:
    """A deterministic, positive OHLCV series (float64, oldest first) that trends and
    oscillates, so crossings, reversals and both candle colours all occur."""
    step = np.arange(size, dtype=np.float64)
    close = 100.0 + 0.05 * step + 4.0 * np.sin(step / 4.0)
    open_ = np.concatenate(([close[0]], close[:-1]))
    high = np.maximum(open_, close) + 0.5
    low = np.minimum(open_, close) - 0.5
    volume = 1_000.0 + 300.0 * np.cos(step / 3.0)
    return OHLCV.of(open_, high, low, close, volume)


def _specs(definition: IndicatorDef) -> list[IndicatorSpec]:
    """The defaults, plus a variant with every optional parameter set (VWAP's window),
    whose code path differs from the default one."""
    defaults = tuple(param.default for param in definition.params)
    specs = [IndicatorSpec(definition.name, defaults)]
    if None in defaults:
        filled: tuple[ParamValue, ...] = tuple(
            max(2, int(param.minimum)) if value is None else value
            for param, value in zip(definition.params, defaults, strict=True)
        )
        specs.append(IndicatorSpec(definition.name, filled))
    return specs


def _warm_indicators(bars: OHLCV) -> list[str]:
    names = []
    for definition in INDICATORS.values():
        for spec in _specs(definition):
            compute(spec, bars.open, bars.high, bars.low, bars.close, bars.volume)
        names.append(INDICATOR + definition.name)
    return names


def _warm_backtests(bars: OHLCV) -> list[str]:
    ts = 1_700_000_000 + 86_400 * np.arange(len(bars), dtype=np.int64)
    series = Bars.of(bars.open, bars.high, bars.low, bars.close, bars.volume, ts)
    config = BacktestConfig(stop_loss_pct=5.0, take_profit_pct=10.0, max_bars=20)
    backtest_bars(series, strategy=SmaCross(5, 20), config=config)
    backtest_bars(series, strategy=EmaCross(5, 20))
    signal = np.sign(np.sin(np.arange(len(bars)) / 8.0)).astype(np.int8)
    backtest_bars(series, signal=signal)
    sweep_sma_cross(series, [3, 5], [10, 20], config=config, threads=1)
    return [BACKTEST + name for name in ("sma_cross", "ema_cross", "signal", "sweep_sma_cross")]


def _warm_signals(bars: OHLCV) -> list[str]:
    names = []
    for name, strategy in STRATEGIES.items():
        strategy.run(bars).latest()
        names.append(SIGNAL + name)
    return names


def warm_kernels() -> list[str]:
    """Run every indicator, backtest path and signal strategy once on
    :func:`synthetic_bars`; return what was warmed (``indicator:rsi``,
    ``backtest:sweep_sma_cross``, ``signal:macd_cross``, ...)."""
    bars = synthetic_bars()
    return [*_warm_indicators(bars), *_warm_backtests(bars), *_warm_signals(bars)]


__all__ = ["BACKTEST", "INDICATOR", "SIGNAL", "WARMUP_BARS", "synthetic_bars", "warm_kernels"]
