"""Performance statistics from an equity curve and its closed trades (vectorized numpy).

Notation: ``E[i]`` equity at the close of bar ``i`` (cash + position marked to that
close), ``C`` the starting cash, ``n`` bars, ``r[i] = E[i] / E[i-1] - 1`` per-bar
returns (bars with ``E[i-1] = 0`` dropped), ``P`` = ``periods_per_year``, ``rf`` the
annual risk-free rate, ``g`` the geometric mean per-bar return
``exp(mean(log(1 + r))) - 1`` (0 if any ``1 + r <= 0``). Trade figures use closed
trades only: ``pnl`` (cash, net of both commissions) and ``ret`` (fraction,
backtesting.py's ``ReturnPct``). Where backtesting.py 0.6 defines a figure, the formula
is its own (``backtesting/_stats.py``); the differences are listed in
``docs/backtest-stats.md`` and reproduced under ``compat["backtesting_py"]``.

* ``total_return_pct`` = ``(E[-1] - C) / C * 100``.
* ``buy_hold_return_pct`` = ``(close[-1] - close[w]) / close[w] * 100``, ``w`` = the
  strategy's warm-up bars (backtesting.py's first trading bar).
* ``return_ann_pct`` = ``((1 + g)**P - 1) * 100``.
* ``cagr_pct`` = ``((E[-1] / C)**(1 / years) - 1) * 100``; years from ``ts`` (calendar,
  365.25-day years) when given, else ``(n - 1) / P``.
* ``volatility_ann_pct`` = ``sqrt((var(r) + (1 + g)**2)**P - (1 + g)**(2P)) * 100``
  (sample variance): the dispersion of a P-bar compounded return; ~``std(r) * sqrt(P)``.
* ``sharpe`` = ``(return_ann_pct - 100 rf) / volatility_ann_pct``.
* ``sortino`` = ``(return_ann - rf) / (sqrt(mean(min(r, 0)**2)) * sqrt(P))``.
* ``calmar`` = ``return_ann / max_drawdown``.
* ``max_drawdown_pct`` = ``max(1 - E / cummax(E)) * 100``, positive.
* Drawdown periods run from a bar with drawdown 0 to the next one (or the last bar)
  with at least one bar under water between; ``avg_drawdown_pct`` is the mean of their
  deepest points, ``max/avg_drawdown_duration`` their lengths in bars (peak to
  recovery). No period: 0.
* ``exposure_pct``: share of bars from each trade's entry bar to its exit bar
  inclusive (the open position to the last bar).
* ``win_rate_pct`` = share of closed trades with ``pnl > 0``.
* ``profit_factor`` = gross profit / gross loss in cash (``inf`` when no trade lost).
* ``expectancy_pct`` = ``mean(ret) * 100``; ``avg_trade_pct`` = geometric mean of ``ret``.
* ``sqn`` = ``sqrt(N) * mean(pnl) / std(pnl)`` (sample std); ``kelly`` =
  ``W - (1 - W) / (mean winning pnl / mean losing |pnl|)``, ``W`` the win rate.
* ``avg_win_pct`` / ``avg_loss_pct``: mean ``ret`` of winners / losers;
  ``largest_win`` / ``largest_loss``: best / worst ``pnl`` in cash.
* Streaks count consecutive closed trades with ``pnl > 0`` / ``pnl < 0``.
* Trade durations are ``exit_bar - entry_bar`` in bars.
* ``commissions``: everything paid, the open position's entry commission included.

Undefined figures (no trades, zero variance) are ``None``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from quantdesk.engine.backtest.bars import Bars, FloatArray, IntArray
from quantdesk.engine.backtest.config import BacktestConfig
from quantdesk.engine.backtest.simulator import OpenPosition, Simulation

Stat = float | int | None

SECONDS_PER_DAY = 86_400.0
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True, slots=True)
class StatsReport:
    stats: dict[str, Stat]
    meta: dict[str, Any]
    compat: dict[str, dict[str, Stat]]


@dataclass(frozen=True, slots=True)
class _Drawdowns:
    max_fraction: float
    peaks: FloatArray  # deepest point of each period, fraction
    bars: IntArray  # length of each period in bars
    seconds: IntArray | None  # and in seconds, with ts


def compute_stats(
    bars: Bars, sim: Simulation, config: BacktestConfig, warmup_bars: int = 0
) -> StatsReport:
    equity = sim.equity
    n = equity.size
    cash = float(config.cash)
    periods = config.periods_per_year
    rf = config.risk_free_rate
    close = bars.close
    trades = sim.trades
    pnl = trades.pnl
    ret = trades.return_pct / 100.0
    count = len(trades)

    returns = _bar_returns(equity)
    gmean = _equity_gmean(equity, returns.size)
    return_ann = _power(1.0 + gmean, periods) - 1.0
    variance = float(returns.var(ddof=1)) if returns.size > 1 else math.nan
    spread = _power(variance + (1.0 + gmean) ** 2, periods) - _power(1.0 + gmean, 2 * periods)
    volatility = math.sqrt(max(0.0, spread)) if not math.isnan(spread) else math.nan
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2))) if returns.size else 0.0
    if bars.ts is not None:
        years = float(bars.ts[-1] - bars.ts[0]) / SECONDS_PER_DAY / DAYS_PER_YEAR
    else:
        years = (n - 1) / periods
    final = float(equity[-1])
    drawdowns = _drawdowns(equity, bars.ts)
    w = min(max(warmup_bars, 0), n - 1)
    wins, losses = pnl > 0, pnl < 0
    win_rate = float(wins.mean()) if count else math.nan
    open_position = sim.open_position
    durations = trades.duration_bars
    vol_pct = volatility * 100.0
    return_ann_pct = return_ann * 100.0

    stats: dict[str, Stat] = {
        "equity_final": final,
        "equity_peak": float(equity.max()),
        "total_return_pct": (final - cash) / cash * 100.0,
        "buy_hold_return_pct": float((close[-1] - close[w]) / close[w] * 100.0),
        "return_ann_pct": return_ann_pct,
        "cagr_pct": (_power(final / cash, 1.0 / years) - 1.0) * 100.0 if years > 0 else None,
        "volatility_ann_pct": vol_pct,
        "sharpe": _div(return_ann_pct - rf * 100.0, vol_pct),
        "sortino": _div(return_ann - rf, downside * math.sqrt(periods)),
        "calmar": _div(return_ann, drawdowns.max_fraction),
        "max_drawdown_pct": drawdowns.max_fraction * 100.0,
        "avg_drawdown_pct": _mean(drawdowns.peaks, 0.0) * 100.0,
        "max_drawdown_duration": int(drawdowns.bars.max(initial=0)),
        "avg_drawdown_duration": _mean(drawdowns.bars, 0.0),
        "exposure_pct": _exposure(trades.entry_bar, trades.exit_bar, open_position, n),
        "trades": count,
        "open_trades": 0 if open_position is None else 1,
        "win_rate_pct": win_rate * 100.0,
        "profit_factor": _profit_factor(pnl),
        "expectancy_pct": _mean(ret) * 100.0,
        "sqn": _sqn(pnl),
        "kelly": win_rate - (1.0 - win_rate) / _div_nan(_mean(pnl[wins]), -_mean(pnl[losses])),
        "best_trade_pct": float(ret.max()) * 100.0 if count else None,
        "worst_trade_pct": float(ret.min()) * 100.0 if count else None,
        "avg_trade_pct": _geometric_mean(ret) * 100.0 if count else None,
        "avg_win_pct": _mean(ret[wins]) * 100.0,
        "avg_loss_pct": _mean(ret[losses]) * 100.0,
        "largest_win": float(pnl.max()) if wins.any() else None,
        "largest_loss": float(pnl.min()) if losses.any() else None,
        "max_consecutive_wins": _longest_run(wins),
        "max_consecutive_losses": _longest_run(losses),
        "avg_trade_duration": _mean(durations),
        "max_trade_duration": int(durations.max()) if count else None,
        "commissions": float(trades.commission.sum())
        + (open_position.entry_commission if open_position else 0.0),
    }
    stats = {key: _clean(value) for key, value in stats.items()}
    meta: dict[str, Any] = {
        "periods_per_year": periods,
        "risk_free_rate": rf,
        "returns": "simple per-bar returns of the mark-to-close equity curve",
        "win_rate_denominator": "closed trades; a trade with pnl == 0 is not a win",
        "profit_factor_no_losses": "inf (null when no closed trade won or lost)",
        "max_drawdown_sign": "positive",
        "duration_unit": "bars",
        "cagr_years": "calendar (ts), 365.25-day years" if bars.ts is not None else "bars / P",
        "buy_hold_start_bar": w,
        "open_position": "excluded from trade statistics, marked to the last close in "
        "equity_final and exposure_pct",
        "compat_duration_unit": "days" if bars.ts is not None else "bars",
    }
    compat = {"backtesting_py": _backtesting_py(stats, bars, sim, drawdowns, ret)}
    return StatsReport(stats=stats, meta=meta, compat=compat)


def _backtesting_py(
    stats: dict[str, Stat], bars: Bars, sim: Simulation, dd: _Drawdowns, ret: FloatArray
) -> dict[str, Stat]:
    """The figures under backtesting.py's keys, in its conventions: negative drawdowns,
    profit factor on trade returns, exposure and commissions of closed trades only,
    durations in days (bars without ts)."""
    trades = sim.trades
    n = sim.equity.size
    if bars.ts is not None:
        ts = bars.ts
        trade_spans = (ts[trades.exit_bar] - ts[trades.entry_bar]) / SECONDS_PER_DAY
        assert dd.seconds is not None
        dd_spans = dd.seconds / SECONDS_PER_DAY
    else:
        trade_spans = trades.duration_bars.astype(np.float64)
        dd_spans = dd.bars.astype(np.float64)
    losses = float(np.abs(ret[ret < 0].sum()))
    values: dict[str, Stat] = {
        "Exposure Time [%]": _exposure(trades.entry_bar, trades.exit_bar, None, n),
        "Equity Final [$]": stats["equity_final"],
        "Equity Peak [$]": stats["equity_peak"],
        "Commissions [$]": float(trades.commission.sum()),
        "Return [%]": stats["total_return_pct"],
        "Buy & Hold Return [%]": stats["buy_hold_return_pct"],
        "Return (Ann.) [%]": stats["return_ann_pct"],
        "Volatility (Ann.) [%]": stats["volatility_ann_pct"],
        "CAGR [%]": stats["cagr_pct"],
        "Sharpe Ratio": stats["sharpe"],
        "Sortino Ratio": stats["sortino"],
        "Calmar Ratio": stats["calmar"],
        "Max. Drawdown [%]": -dd.max_fraction * 100.0,
        "Avg. Drawdown [%]": -_mean(dd.peaks) * 100.0,
        "Max. Drawdown Duration": float(dd_spans.max()) if dd_spans.size else None,
        "Avg. Drawdown Duration": _mean(dd_spans),
        "# Trades": stats["trades"],
        "Win Rate [%]": stats["win_rate_pct"],
        "Best Trade [%]": stats["best_trade_pct"],
        "Worst Trade [%]": stats["worst_trade_pct"],
        "Avg. Trade [%]": stats["avg_trade_pct"],
        "Max. Trade Duration": float(trade_spans.max()) if trade_spans.size else None,
        "Avg. Trade Duration": _mean(trade_spans),
        "Profit Factor": float(ret[ret > 0].sum()) / losses if losses else None,
        "Expectancy [%]": stats["expectancy_pct"],
        "SQN": stats["sqn"],
        "Kelly Criterion": stats["kelly"],
    }
    return {key: _clean(value) for key, value in values.items()}


def _power(base: float, exponent: float) -> float:
    """``base ** exponent``, +inf where Python's float power would raise OverflowError
    (annualizing with a large ``periods_per_year``); NaN stays NaN. The sweep kernel's
    compiled ``**`` gives the same."""
    try:
        return float(base**exponent)
    except OverflowError:
        return math.inf


def _bar_returns(equity: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = equity[1:] / equity[:-1] - 1.0
    if equity[:-1].min() <= 0.0:  # after ruin: 0 -> 0 is no return (pandas' dropna)
        returns = returns[np.isfinite(returns)]
    return returns


def _geometric_mean(returns: FloatArray) -> float:
    """backtesting.py's ``geometric_mean``: 0 if any ``1 + r <= 0``."""
    growth = returns + 1.0
    if not growth.size or (growth <= 0).any():
        return 0.0
    return math.exp(float(np.log(growth).sum()) / growth.size) - 1.0


def _equity_gmean(equity: FloatArray, count: int) -> float:
    """Geometric mean of ``count`` per-bar returns; the log-sum telescopes to
    ``log(E[-1] / E[0])``, so no per-bar logarithm is needed. 0 after ruin."""
    if not count or equity[-1] <= 0.0:
        return 0.0
    return float((equity[-1] / equity[0]) ** (1.0 / count)) - 1.0


def _drawdowns(equity: FloatArray, ts: IntArray | None) -> _Drawdowns:
    drawdown = 1.0 - equity / np.maximum.accumulate(equity)
    n = drawdown.size
    flat = np.flatnonzero(drawdown == 0.0)
    if flat[-1] != n - 1:
        flat = np.append(flat, n - 1)
    start, end = flat[:-1], flat[1:]
    # Deepest point of [start, end]: the segment maximum up to the next flat bar, and
    # the end bar itself (which is under water when it is the last bar).
    segment_max = np.maximum.reduceat(drawdown, flat)[:-1]
    peaks = np.maximum(segment_max, drawdown[end])
    keep = end > start + 1
    seconds = None if ts is None else (ts[end] - ts[start])[keep]
    return _Drawdowns(
        max_fraction=float(drawdown.max()),
        peaks=peaks[keep],
        bars=(end - start)[keep],
        seconds=seconds,
    )


def _exposure(entry: IntArray, exit_: IntArray, position: OpenPosition | None, n: int) -> float:
    """Bars from entry to exit inclusive; trades follow one another, so the only bar
    counted twice is one where a trade exits and the next enters (a reversal)."""
    if position is not None:
        entry = np.append(entry, position.entry_bar)
        exit_ = np.append(exit_, n - 1)
    shared = int(np.count_nonzero(entry[1:] == exit_[:-1]))
    held = int((exit_ - entry + 1).sum()) - shared
    return held / n * 100.0


def _profit_factor(pnl: FloatArray) -> float | None:
    gross_loss = float(-pnl[pnl < 0].sum())
    gross_profit = float(pnl[pnl > 0].sum())
    if gross_loss:
        return gross_profit / gross_loss
    return math.inf if gross_profit else None


def _sqn(pnl: FloatArray) -> float | None:
    if pnl.size < 2:
        return None
    std = float(pnl.std(ddof=1))
    return math.sqrt(pnl.size) * float(pnl.mean()) / std if std else None


def _longest_run(mask: Any) -> int:
    if not mask.any():
        return 0
    padded = np.concatenate(([0], mask.astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(padded))
    return int((edges[1::2] - edges[::2]).max())


def _mean(values: Any, empty: float = math.nan) -> float:
    return float(values.mean()) if values.size else empty


def _div(numerator: float, denominator: float) -> float | None:
    if not denominator or math.isnan(denominator):
        return None
    return numerator / denominator


def _div_nan(numerator: float, denominator: float) -> float:
    result = _div(numerator, denominator)
    return math.nan if result is None else result


def _clean(value: Stat) -> Stat:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
