"""Parameter-sweep kernel: many SMA pairs through the same bar loop.

Each pair runs ``cross_target`` and ``simulate_into`` (the very kernels of a single
backtest) and reduces its equity curve and trades to the summary figures below, with
the formulas of ``stats.py`` re-stated in compiled code (tests hold them equal).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from quantdesk.engine.backtest._kernels import capacity, cross_target, simulate_into

#: Columns of the summary matrix, in order.
METRICS = (
    "equity_final",
    "total_return_pct",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown_pct",
    "exposure_pct",
    "trades",
    "win_rate_pct",
    "profit_factor",
    "expectancy_pct",
    "sqn",
)


@njit(cache=True, nogil=True)
def _div(a, b):  # type: ignore[no-untyped-def]
    if b == 0.0 or np.isnan(b):
        return np.nan
    return a / b


#: Reassociation lets LLVM vectorize the sums; NaN/inf semantics are kept.
_FAST = {"reassoc", "contract", "nsz", "arcp"}


@njit(cache=True, nogil=True, fastmath=_FAST)
def _return_moments(equity, count, scratch):  # type: ignore[no-untyped-def]
    """Sample variance and downside sum of squares of the first ``count`` per-bar
    returns. Growth factors go to ``scratch`` through ``np.divide`` (numba vectorizes
    it; a division inside a reduction loop it does not), shifted by the first one so
    the one-pass variance stays accurate."""
    growth = scratch[:count]
    np.divide(equity[1 : count + 1], equity[:count], growth)
    shift = growth[0]
    s1 = 0.0
    s2 = 0.0
    down = 0.0
    for i in range(count):
        d = growth[i] - shift
        s1 += d
        s2 += d * d
        low = min(growth[i] - 1.0, 0.0)
        down += low * low
    variance = (s2 - s1 * s1 / count) / (count - 1) if count > 1 else np.nan
    return variance, down


@njit(cache=True, nogil=True)
def summarize(  # type: ignore[no-untyped-def]
    equity, tf, ti, open_units, open_entry_bar, cash, periods, rf, scratch, out
):
    """Write the ``METRICS`` of one run into ``out``; ``scratch`` holds ``n`` floats."""
    n = equity.size
    lowest = 1.0  # min of equity / running peak
    peak = equity[0]
    for i in range(n):
        value = equity[i]
        if value > peak:
            peak = value
        elif value < peak * lowest:
            lowest = value / peak
    max_dd = 1.0 - lowest
    # Returns stop at the bar of ruin (equity 0 from there on: pandas' dropna).
    count = n - 1
    if equity[n - 1] <= 0.0:
        count = 1
        while equity[count] > 0.0:
            count += 1
    if count:
        variance, down = _return_moments(equity, count, scratch)
    else:
        variance, down = np.nan, 0.0
    # Telescoping: exp(mean(log(1 + r))) = (E[last] / E[0]) ** (1 / count); 0 after ruin.
    last = equity[n - 1]
    gmean = (last / equity[0]) ** (1.0 / count) - 1.0 if count and last > 0.0 else 0.0
    return_ann = (1.0 + gmean) ** periods - 1.0
    spread = (variance + (1.0 + gmean) ** 2) ** periods - (1.0 + gmean) ** (2 * periods)
    vol_pct = np.sqrt(max(0.0, spread)) * 100.0 if not np.isnan(spread) else np.nan
    downside = np.sqrt(down / count) if count else 0.0

    # Closed trades.
    k = ti.shape[0]
    wins = 0
    gross_profit = 0.0
    gross_loss = 0.0
    pnl_sum = 0.0
    ret_sum = 0.0
    held = 0
    last_exit = -1
    for j in range(k):
        pnl = tf[j, 4]
        pnl_sum += pnl
        ret_sum += tf[j, 5]
        if pnl > 0.0:
            wins += 1
            gross_profit += pnl
        elif pnl < 0.0:
            gross_loss -= pnl
        held += ti[j, 1] - ti[j, 0] + 1 - (1 if ti[j, 0] == last_exit else 0)
        last_exit = ti[j, 1]
    if open_units != 0.0:
        entry = open_entry_bar
        held += n - entry - (1 if entry == last_exit else 0)
    pnl_sq = 0.0
    for j in range(k):
        d = tf[j, 4] - pnl_sum / k
        pnl_sq += d * d
    pnl_std = np.sqrt(pnl_sq / (k - 1)) if k > 1 else np.nan

    out[0] = equity[n - 1]
    out[1] = (equity[n - 1] - cash) / cash * 100.0
    out[2] = _div(return_ann * 100.0 - rf * 100.0, vol_pct)
    out[3] = _div(return_ann - rf, downside * np.sqrt(periods))
    out[4] = _div(return_ann, max_dd)
    out[5] = max_dd * 100.0
    out[6] = held / n * 100.0
    out[7] = k
    out[8] = wins / k * 100.0 if k else np.nan
    if gross_loss > 0.0:
        out[9] = gross_profit / gross_loss
    else:
        out[9] = np.inf if gross_profit > 0.0 else np.nan
    out[10] = ret_sum / k * 100.0 if k else np.nan
    out[11] = np.sqrt(k) * (pnl_sum / k) / pnl_std if k > 1 and pnl_std > 0.0 else np.nan


@njit(cache=True, nogil=True)
def sweep_sma(  # type: ignore[no-untyped-def]
    open_,
    high,
    low,
    close,
    averages,
    fast_rows,
    slow_rows,
    pairs,
    cash,
    commission,
    slippage,
    fill_close,
    all_in,
    fraction,
    whole,
    allow_short,
    stop_loss,
    take_profit,
    max_bars,
    periods,
    rf,
    out,
):
    """Write ``out[p]``, the summary of ``(averages[fast_rows[p]], averages[slow_rows[p]])``,
    for every ``p`` in ``pairs``. Releases the GIL, so callers run chunks of pairs on
    several threads; the buffers are reused pair after pair (fresh megabyte arrays per
    pair cost page faults, which serialize threads)."""
    n = close.size
    target = np.empty(n, dtype=np.int8)
    equity = np.empty(n)
    scratch = np.empty(n)
    rows = 0
    tf = np.empty((rows, 6))
    ti = np.empty((rows, 3), dtype=np.int64)
    for p in pairs:
        cross_target(averages[fast_rows[p]], averages[slow_rows[p]], target)
        need = capacity(target)
        if need > rows:
            rows = need
            tf = np.empty((rows, 6))
            ti = np.empty((rows, 3), dtype=np.int64)
        k, units, _, _, entry_bar = simulate_into(
            open_, high, low, close, target, cash, commission, slippage, fill_close,
            all_in, fraction, whole, allow_short, stop_loss, take_profit, max_bars,
            equity, tf, ti,
        )  # fmt: skip
        summarize(equity, tf[:k], ti[:k], units, entry_bar, cash, periods, rf, scratch, out[p])
