"""Performance figures of an account's equity history, computed by the backtest engine's
statistics (`quantdesk.engine.backtest.stats.compute_stats`): the daily equity points stand in
for the equity curve (and, as prices, for the bars: only the equity-curve figures are read),
net deposits for the starting cash. Trade statistics are left out: the desk's trades are its
fills, listed elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from quantdesk.engine.backtest.bars import Bars
from quantdesk.engine.backtest.config import BacktestConfig
from quantdesk.engine.backtest.simulator import Simulation, Trades
from quantdesk.engine.backtest.stats import compute_stats
from quantdesk.portfolio.position_schemas import Performance

PERIODS_PER_YEAR = 252.0  # one point per market day

_FIGURES = (
    "total_return_pct",
    "return_ann_pct",
    "cagr_pct",
    "volatility_ann_pct",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown_pct",
    "avg_drawdown_pct",
    "max_drawdown_duration",
    "avg_drawdown_duration",
    "equity_peak",
)


def _no_trades() -> Trades:
    ints, floats = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    return Trades(
        entry_bar=ints,
        exit_bar=ints,
        units=floats,
        entry_price=floats,
        exit_price=floats,
        commission=floats,
        pnl=floats,
        return_pct=floats,
        exit_reason=np.empty(0, dtype=np.int8),
    )


def performance(ts: Sequence[int], equity: Sequence[Decimal], base: Decimal) -> Performance:
    """The figures over day points `ts`/`equity` (oldest first) from starting cash `base`."""
    if len(equity) < 2 or base <= 0 or min(equity) <= 0:
        return Performance(points=len(equity))
    curve = np.array([float(value) for value in equity], dtype=np.float64)
    bars = Bars.of(curve, curve, curve, curve, ts=np.array(ts, dtype=np.int64))
    simulation = Simulation(equity=curve, trades=_no_trades(), open_position=None)
    config = BacktestConfig(cash=float(base), periods_per_year=PERIODS_PER_YEAR)
    stats = compute_stats(bars, simulation, config).stats
    return Performance.model_validate(
        {"points": len(equity)} | {name: stats.get(name) for name in _FIGURES}
    )
