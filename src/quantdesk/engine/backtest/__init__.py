"""Backtest engine: price columns and a strategy (or target positions) in, trades,
equity curve and statistics out. Pure: no I/O, no module state.

Contract (``BacktestConfig`` has the details):

* A target position (+1 / 0 / -1) is known at a bar's close; a *change* of target
  trades at the next bar's open (default) or at that close. One position at a time.
* Commission is a fraction of notional per side; slippage (bps) moves market fills
  against the trader. Sizing is all equity in whole units (backtesting.py's default
  order), a fixed fraction of equity, or a fixed number of units (backtesting.py's
  ``buy(size=n)``: canceled, not shrunk, when the cash cannot pay for it).
* Stop-loss / take-profit (percent of the entry fill) are checked inside every bar the
  trade is open - stop first when a bar touches both, gaps fill at the open - and
  ``max_bars`` expires a trade.
* ``stats["trades"]`` counts closed trades; a position still open at the end is
  ``open_position`` (``stats["open_trades"] == 1``), marked to the last close in
  ``equity_final`` - backtesting.py's convention.

Performance: compiled (numba, cached on disk) bar loop and SMA kernels plus vectorized
numpy statistics; about 40 ms for 1,000,000 bars with an SMA crossover, stats included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy.typing as npt

from quantdesk.engine.backtest.bars import Bars, FloatArray
from quantdesk.engine.backtest.config import BacktestConfig, Fill, Sizing
from quantdesk.engine.backtest.simulator import (
    EXIT_REASONS,
    OpenPosition,
    Simulation,
    Trades,
    as_target,
    simulate,
)
from quantdesk.engine.backtest.stats import Stat, StatsReport, compute_stats
from quantdesk.engine.backtest.strategies import (
    SmaCross,
    Strategy,
    crossover_target,
    sma,
    sma_cross,
)
from quantdesk.engine.backtest.sweep import SweepResult, sweep_sma_cross


@dataclass(frozen=True, slots=True, eq=False)
class BacktestResult:
    """Everything a backtest produced. ``equity[i]`` is equity at bar ``i``'s close."""

    stats: dict[str, Stat]
    meta: dict[str, Any]
    compat: dict[str, dict[str, Stat]]
    trades: Trades
    open_position: OpenPosition | None
    equity: FloatArray
    config: BacktestConfig


def run_backtest(
    open: npt.ArrayLike,
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    volume: npt.ArrayLike | None = None,
    ts: npt.ArrayLike | None = None,
    *,
    strategy: Strategy | None = None,
    signal: npt.ArrayLike | None = None,
    config: BacktestConfig | None = None,
    warmup_bars: int = 0,
) -> BacktestResult:
    """Backtest ``strategy`` (e.g. ``SmaCross(10, 20)``) or a precomputed ``signal``
    (target positions, one per bar) on OHLC columns; give exactly one of them.

    ``ts`` (epoch seconds, bar open times) enables calendar CAGR and day durations in
    the compat block. ``warmup_bars`` (signal only; a strategy knows its own) is where
    buy-and-hold starts.
    """
    bars = Bars.of(open, high, low, close, volume, ts)
    return backtest_bars(
        bars, strategy=strategy, signal=signal, config=config, warmup_bars=warmup_bars
    )


def backtest_bars(
    bars: Bars,
    *,
    strategy: Strategy | None = None,
    signal: npt.ArrayLike | None = None,
    config: BacktestConfig | None = None,
    warmup_bars: int = 0,
) -> BacktestResult:
    """``run_backtest`` on already validated ``Bars``."""
    config = config or BacktestConfig()
    if strategy is not None and signal is None:
        target = as_target(strategy.target(bars), len(bars))
        warmup_bars = strategy.warmup_bars
    elif signal is not None and strategy is None:
        target = as_target(signal, len(bars))
    else:
        raise ValueError("give exactly one of strategy and signal")
    sim = simulate(bars, target, config)
    report = compute_stats(bars, sim, config, warmup_bars)
    return BacktestResult(
        stats=report.stats,
        meta=report.meta,
        compat=report.compat,
        trades=sim.trades,
        open_position=sim.open_position,
        equity=sim.equity,
        config=config,
    )


__all__ = [
    "EXIT_REASONS",
    "BacktestConfig",
    "BacktestResult",
    "Bars",
    "Fill",
    "OpenPosition",
    "Simulation",
    "Sizing",
    "SmaCross",
    "Stat",
    "StatsReport",
    "Strategy",
    "SweepResult",
    "Trades",
    "backtest_bars",
    "compute_stats",
    "crossover_target",
    "run_backtest",
    "simulate",
    "sma",
    "sma_cross",
    "sweep_sma_cross",
]
