"""Parameter-sweep kernel: many SMA pairs through the same bar loop.

Each pair runs the crossover (``cross_target``'s rule, the bars where the target changes
collected in the same pass) and ``simulate_into`` (the bar loop of a single backtest) and
reduces its equity curve and trades to the summary figures below, with the formulas of
``stats.py`` re-stated in compiled code (tests hold them equal). Stretches out of the
market longer than ``FLAT_FILL`` bars, where equity cannot move, are summarized in closed
form instead of bar by bar.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
from numba import njit, types
from numba.extending import intrinsic

from quantdesk.engine.backtest._kernels import _RESUM_EVERY, FLAT_FILL, simulate_into

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


@njit(cache=True, nogil=True)
def rolling_means(x, periods, out):  # type: ignore[no-untyped-def]
    """``out[r] = rolling_mean(x, periods[r])`` for every ``r``, bit for bit: each row
    runs exactly the additions of ``rolling_mean``, but the rows advance together, so
    their running sums are independent chains the CPU overlaps instead of one
    latency-bound chain per period."""
    n = x.size
    m = periods.size
    totals = np.zeros(m)
    for i in range(n):
        resum = (i % _RESUM_EVERY) == 0
        value = x[i]
        for r in range(m):
            period = periods[r]
            if i >= period and resum:
                total = 0.0
                for j in range(i - period + 1, i + 1):
                    total += x[j]
            else:
                total = totals[r] + value
                if i >= period:
                    total -= x[i - period]
            totals[r] = total
            out[r, i] = total / period if i >= period - 1 else np.nan
    return out


@njit(cache=True, nogil=True)
def cross_changes(fast, slow, out, changes):  # type: ignore[no-untyped-def]
    """``cross_target(fast, slow, out)`` that also writes the bars where the target
    changes (``change_bars(out)``) into ``changes``; returns how many. One pass over the
    target instead of three (crossover, ``capacity``, ``change_bars``)."""
    n = out.size
    for i in range(n):  # vectorized: the side of each bar, as in cross_target
        out[i] = (fast[i] > slow[i]) - (fast[i] < slow[i])
    state = 0
    side = out[0] if n else 0
    k = 0
    for i in range(n):
        now = out[i]
        if i and now != side:
            if side == -1 and now == 1 and state != 1:
                state = 1
                changes[k] = i
                k += 1
            elif side == 1 and now == -1 and state != -1:
                state = -1
                changes[k] = i
                k += 1
        side = now
        out[i] = state
    return k


@njit(cache=True, nogil=True)
def flat_runs(ti, open_units, open_entry_bar, n, runs):  # type: ignore[no-untyped-def]
    """Write the runs of bars ``[a, b]`` (``b - a >= FLAT_FILL``) over which equity
    cannot change into ``runs`` (``ti.shape[0] + 1`` rows); returns how many.

    Out of the market nothing moves equity: from each exit bar (or bar 0) to the bar
    before the next entry (or the last bar) it is the cash after that exit, exactly, so
    every return inside such a run is exactly 0. Shorter runs are left to the bar by bar
    summary: one call per run costs more than their bars (and ``simulate_into`` writes
    every bar of them)."""
    r = 0
    start = 0
    for j in range(ti.shape[0]):
        end = ti[j, 0] - 1
        if end - start >= FLAT_FILL:
            runs[r, 0] = start
            runs[r, 1] = end
            r += 1
        start = ti[j, 1]
    end = open_entry_bar - 1 if open_units != 0.0 else n - 1
    if end - start >= FLAT_FILL:
        runs[r, 0] = start
        runs[r, 1] = end
        r += 1
    return r


#: Bars per block in ``_figures``: the block's equity and growth factors stay in L1 cache.
_BLOCK = 256


@njit(cache=True, nogil=True, fastmath=_FAST)
def _moments_of(equity, lo, hi, shift, growth):  # type: ignore[no-untyped-def]
    """Sums of ``d``, ``d * d`` and the downside squares of returns ``lo .. hi - 1``
    (return ``i`` is ``equity[i + 1] / equity[i] - 1``), ``d`` the growth minus
    ``shift``. The growth factors go to ``growth`` through ``np.divide`` first (numba
    vectorizes it; a division inside a reduction loop it does not)."""
    np.divide(equity[lo + 1 : hi + 1], equity[lo:hi], growth)
    s1 = 0.0
    s2 = 0.0
    down = 0.0
    for i in range(hi - lo):
        d = growth[i] - shift
        s1 += d
        s2 += d * d
        low = min(growth[i] - 1.0, 0.0)
        down += low * low
    return s1, s2, down


def _bitcast(typingctx, bits):  # type: ignore[no-untyped-def]
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


#: The double whose bit pattern is the int64 argument (a register move, in njit code).
_as_float: Any = intrinsic(_bitcast)


@njit(cache=True, nogil=True)
def _bits_min_max(bits, lo, hi):  # type: ignore[no-untyped-def]
    """(min, max) of ``bits[lo:hi]``, the int64 bit patterns of equity values. Equity is
    never negative (it is 0 from the bar of ruin on) and the bit patterns of doubles
    >= +0.0 sort as the doubles do; an integer reduction vectorizes, a float min/max
    reduction compiles to a latency-bound scalar chain (ten times slower)."""
    low = bits[lo]
    high = bits[lo]
    for i in range(lo + 1, hi):
        low = min(low, bits[i])
        high = max(high, bits[i])
    return low, high


@njit(cache=True, nogil=True)
def _lowest_of(equity, bits, lo, hi, peak, lowest):  # type: ignore[no-untyped-def]
    """The running peak and min(equity / running peak) carried over bars ``lo .. hi - 1``.

    From the block's lowest and highest value: if no bar tops ``peak``, the peak stays
    and the lowest ratio is the lowest value over it; if the lowest value is at least
    the block's highest x ``lowest``, no bar can set a new low (products are
    monotonic), so only the peak moves. Otherwise (a new high and then a new low in one
    block) bar by bar."""
    low_bits, high_bits = _bits_min_max(bits, lo, hi)
    low = _as_float(low_bits)
    high = _as_float(high_bits)
    if high <= peak:
        return peak, min(lowest, low / peak)
    if low >= high * lowest:
        return high, lowest
    for j in range(lo, hi):
        value = equity[j]
        if value > peak:
            peak = value
        elif value < peak * lowest:
            lowest = value / peak
    return peak, lowest


@njit(cache=True, nogil=True)
def _figures(equity, count, runs, nruns, scratch):  # type: ignore[no-untyped-def]
    """One pass over ``equity``: (sample variance of the first ``count`` per-bar
    returns, their downside sum of squares, min(equity / running peak)).

    Block by block, each block read from memory once: its growth factors and return sums
    (shifted by the first return so the one-pass variance stays accurate), then its
    running peak and lowest ratio. A flat run ``[a, b]`` (its returns exactly 0, its bars
    all equal) is added in closed form and its bars counted once."""
    flat_first = nruns > 0 and runs[0, 0] == 0
    shift = 1.0 if flat_first else equity[1] / equity[0]
    d = 1.0 - shift
    s1 = 0.0
    s2 = 0.0
    down = 0.0
    lowest = 1.0
    peak = equity[0]
    n = equity.size
    bits = equity.view(np.int64)
    i = 0  # the stretch in the market runs from bar i (its returns from return i)
    for r in range(nruns + 1):
        last = runs[r, 0] if r < nruns else n - 1  # the stretch's last bar
        for start in range(i, last + 1, _BLOCK):
            stop = min(start + _BLOCK, last + 1)  # bars start .. stop - 1
            high = min(stop, last, count)  # returns start .. high - 1
            if high > start:
                p1, p2, p3 = _moments_of(equity, start, high, shift, scratch[: high - start])
                s1 += p1
                s2 += p2
                down += p3
            peak, lowest = _lowest_of(equity, bits, start, stop, peak, lowest)
        if r < nruns:
            m = min(runs[r, 1], count) - min(runs[r, 0], count)
            if m > 0:
                s1 += m * d
                s2 += m * (d * d)
            i = runs[r, 1]
    variance = (s2 - s1 * s1 / count) / (count - 1) if count > 1 else np.nan
    return variance, down, lowest


@njit(cache=True, nogil=True)
def summarize(  # type: ignore[no-untyped-def]
    equity, tf, ti, open_units, open_entry_bar, cash, periods, rf, scratch, runs, out
):
    """Write the ``METRICS`` of one run into ``out``; ``scratch`` holds ``_BLOCK``
    floats, ``runs`` ``ti.shape[0] + 1`` rows of two ints. ``equity`` needs only the
    bars in the market, the first and last bar of each stretch out of it longer than
    ``FLAT_FILL`` bars (every bar of a shorter one), and the bars where trades enter or
    exit (``simulate_into`` with ``mark_flat`` False)."""
    n = equity.size
    nruns = flat_runs(ti, open_units, open_entry_bar, n, runs)
    # Returns stop at the bar of ruin (equity 0 from there on: pandas' dropna).
    count = n - 1
    if equity[n - 1] <= 0.0:  # equity is 0 from the bar of ruin on, and > 0 before it
        while count > 1 and equity[count - 1] <= 0.0:
            count -= 1
    if count:
        variance, down, lowest = _figures(equity, count, runs, nruns, scratch)
    else:  # one bar
        variance, down, lowest = np.nan, 0.0, 1.0
    max_dd = 1.0 - lowest
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
    sizing,
    amount,
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
    changes = np.empty(n, dtype=np.int64)
    equity = np.empty(n)
    scratch = np.empty(_BLOCK)
    rows = 0
    tf = np.empty((rows, 6))
    ti = np.empty((rows, 3), dtype=np.int64)
    runs = np.empty((rows + 1, 2), dtype=np.int64)
    for p in pairs:
        c = cross_changes(averages[fast_rows[p]], averages[slow_rows[p]], target, changes)
        if c + 1 > rows:
            rows = c + 1
            tf = np.empty((rows, 6))
            ti = np.empty((rows, 3), dtype=np.int64)
            runs = np.empty((rows + 1, 2), dtype=np.int64)
        k, units, _, _, entry_bar = simulate_into(
            open_, high, low, close, target, cash, commission, slippage, fill_close,
            sizing, amount, whole, allow_short, stop_loss, take_profit, max_bars,
            changes[:c], False, equity, tf, ti,
        )  # fmt: skip
        summarize(
            equity, tf[:k], ti[:k], units, entry_bar, cash, periods, rf, scratch, runs, out[p]
        )
