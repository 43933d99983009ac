"""Vectorized numpy kernels shared by the batch indicators.

Rolling-window functions return only the *valid part*: element ``j`` describes the
window ``x[j : j + period]``, so the result has ``len(x) - period + 1`` elements.

Two techniques keep these both fast and accurate to ~1e-13 relative:

* Windowed sums are differences of cumulative sums, but computed per chunk of a few
  thousand bars and on values shifted by the chunk's first element. A single global
  cumsum would grow with the series and lose digits on long inputs; chunking bounds
  the magnitude (and hence the rounding error) by the chunk length.
* First-order linear recurrences (EMA, Wilder smoothing) have no vectorized numpy
  primitive and scipy is not available. ``linear_recurrence`` solves them blockwise
  in closed form, ``y[t] = a**t * (y0 + sum_j x[j] * a**-j)``, with blocks short
  enough that ``a**-t`` cannot overflow; only the block carries are sequential.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from quantdesk.engine.indicators._core import BoolArray, FloatArray, IndexArray

#: Largest ``a**-t`` factor the recurrence kernel lets a block reach (about 1e100).
_MAX_LOG_GROWTH: Final = 100 * math.log(10)

#: eps / 1e-10: see ``rolling_variance``.
_VARIANCE_GUARD: Final = float(np.finfo(np.float64).eps) * 1e10

#: Cap on gathered elements when recomputing suspicious variance windows exactly.
_GATHER_ELEMENTS: Final = 1 << 22


def _chunk_rows(x: FloatArray, width: int, per_row: int) -> tuple[FloatArray, int]:
    """Overlapping rows covering ``per_row`` consecutive windows of ``width`` each.

    Row ``r`` holds ``x[r*per_row : r*per_row + per_row + width - 1]`` (the tail is
    padded with the last value) as a strided view, so building it copies nothing.
    """
    size = x.size
    valid = size - width + 1
    rows = -(-valid // per_row)
    total = rows * per_row + width - 1
    padded = x
    if total != size:
        padded = np.empty(total, dtype=np.float64)
        padded[:size] = x
        padded[size:] = x[-1]
    view: FloatArray = sliding_window_view(padded, per_row + width - 1)[::per_row]
    return view, valid


def _leading_zero_cumsum(rows: FloatArray) -> FloatArray:
    out = np.zeros((rows.shape[0], rows.shape[1] + 1), dtype=np.float64)
    np.cumsum(rows, axis=1, out=out[:, 1:])
    return out


def rolling_mean(x: FloatArray, period: int) -> FloatArray:
    """Mean of every ``period``-bar window (valid part)."""
    if x.size < period:
        return np.empty(0, dtype=np.float64)
    if period == 1:
        return x.copy()
    rows, valid = _chunk_rows(x, period, max(4 * period, 1024))
    shift = rows[:, :1]
    sums = _leading_zero_cumsum(rows - shift)
    means = (sums[:, period:] - sums[:, :-period]) / period + shift
    return means.ravel()[:valid]


def rolling_sum(x: FloatArray, period: int) -> FloatArray:
    """Sum of every ``period``-bar window (valid part), without shifting.

    Unlike :func:`rolling_mean` no offset is subtracted, so a window of zeros sums to
    exactly 0 - VWAP relies on that to detect bars without volume.
    """
    if x.size < period:
        return np.empty(0, dtype=np.float64)
    if period == 1:
        return x.copy()
    rows, valid = _chunk_rows(x, period, max(4 * period, 1024))
    sums = _leading_zero_cumsum(rows)
    return (sums[:, period:] - sums[:, :-period]).ravel()[:valid]


def rolling_weighted_mean(x: FloatArray, period: int) -> FloatArray:
    """Linearly weighted mean (weights 1..period, newest heaviest) of every window."""
    if x.size < period:
        return np.empty(0, dtype=np.float64)
    if period == 1:
        return x.copy()
    per_row = max(4 * period, 256)
    rows, valid = _chunk_rows(x, period, per_row)
    shift = rows[:, :1]
    level1 = _leading_zero_cumsum(rows - shift)  # C[i] = sum(y[:i])
    level2 = _leading_zero_cumsum(level1)  # D[i] = sum(C[:i])
    # For a window y[s..e]: sum((m - s + 1) * y[m]) = period * C[e+1] - (D[e+1] - D[s]).
    end = level1.shape[1]
    weighted = period * level1[:, period:] - (level2[:, period:end] - level2[:, :per_row])
    means = weighted / (period * (period + 1) / 2) + shift
    return means.ravel()[:valid]


def _exact_variance(x: FloatArray, period: int, starts: IndexArray) -> FloatArray:
    """Two-pass population variance of the windows starting at ``starts``."""
    out = np.empty(starts.size, dtype=np.float64)
    offsets = np.arange(period)
    step = max(1, _GATHER_ELEMENTS // period)
    for begin in range(0, starts.size, step):
        chunk = starts[begin : begin + step]
        windows = x[chunk[:, None] + offsets]
        centred = windows - (windows.sum(axis=1) / period)[:, None]
        mean = centred.sum(axis=1) / period
        mean_sq = (centred * centred).sum(axis=1) / period
        variance = mean_sq - mean * mean
        # TA-Lib's floor after a reseed: below this the variance is rounding residue.
        variance[variance < 1e-12 * mean_sq] = 0.0
        out[begin : begin + step] = variance
    return out


def rolling_variance(x: FloatArray, period: int) -> FloatArray:
    """Population variance (ddof=0) of every ``period``-bar window, never negative.

    The fast path uses shifted windowed sums, ``E[y^2] - E[y]^2``. Where that
    subtraction may have lost digits (the window is flat relative to the sums it
    is computed from) the window is recomputed exactly with a two-pass formula, so
    the relative error stays below ~1e-10 and flat stretches give exactly 0.
    """
    if x.size < period:
        return np.empty(0, dtype=np.float64)
    if period == 1:
        return np.zeros(x.size, dtype=np.float64)
    # Short rows centred on their own mean keep the sums of squares close to the
    # windows' own spread, so few windows need the exact fallback even on trends.
    rows, valid = _chunk_rows(x, period, max(period, 64))
    shifted = rows - rows.mean(axis=1, keepdims=True)
    sums = _leading_zero_cumsum(shifted)
    squares = _leading_zero_cumsum(shifted * shifted)
    mean = ((sums[:, period:] - sums[:, :-period]) / period).ravel()[:valid]
    running = squares[:, period:].ravel()[:valid]
    mean_sq = (running - squares[:, :-period].ravel()[:valid]) / period
    variance = mean_sq - mean * mean
    # The rounding error of the windowed sum of squares is about eps times the
    # running sum it was differenced from; recompute where that could exceed
    # 1e-10 of the variance (this also covers TA-Lib's 1e-6 cancellation test).
    suspect = np.flatnonzero(variance < _VARIANCE_GUARD * running)
    if suspect.size:
        variance[suspect] = _exact_variance(x, period, suspect)
    return variance


def rolling_max(x: FloatArray, period: int) -> FloatArray:
    """Maximum of every window in O(n) (van Herk / Gil-Werman block scan)."""
    return _rolling_extreme(x, period, np.maximum, -np.inf)


def rolling_min(x: FloatArray, period: int) -> FloatArray:
    """Minimum of every window in O(n) (van Herk / Gil-Werman block scan)."""
    return _rolling_extreme(x, period, np.minimum, np.inf)


def _rolling_extreme(x: FloatArray, period: int, op: np.ufunc, fill: float) -> FloatArray:
    size = x.size
    if size < period:
        return np.empty(0, dtype=np.float64)
    if period == 1:
        return x.copy()
    blocks = -(-size // period)
    padded = np.full(blocks * period, fill, dtype=np.float64)
    padded[:size] = x
    grid = padded.reshape(blocks, period)
    prefix = op.accumulate(grid, axis=1).ravel()
    suffix = op.accumulate(grid[:, ::-1], axis=1)[:, ::-1].ravel()
    valid = size - period + 1
    # A window [j, j+period-1] spans at most two blocks: the suffix of j's block
    # and the prefix of the next one up to the window's end.
    result: FloatArray = op(suffix[:valid], prefix[period - 1 : period - 1 + valid])
    return result


def linear_recurrence(
    x: FloatArray, a: float, y0: float, active: BoolArray | None = None
) -> FloatArray:
    """Solve ``y[t] = a * y[t-1] + x[t]`` with ``y[-1] = y0``, for ``0 <= a < 1``.

    Where ``active[t]`` is False the step is skipped instead: ``y[t] = y[t-1]`` and
    ``x[t]`` is ignored (ADX keeps its previous value on bars without a DX).
    """
    size = x.size
    if size == 0:
        return np.empty(0, dtype=np.float64)
    if not 0.0 <= a < 1.0:
        raise ValueError(f"decay must be in [0, 1), got {a}")
    if a == 0.0:
        if active is None:
            return x.copy()
        raise ValueError("a masked recurrence needs a decay > 0")
    block = max(1, min(size, int(_MAX_LOG_GROWTH / -math.log(a))))
    blocks = -(-size // block)
    padded = np.zeros(blocks * block, dtype=np.float64)
    if active is None:
        padded[:size] = x
        grid = padded.reshape(blocks, block)
        steps = np.arange(1, block + 1, dtype=np.float64)
        decay = np.power(a, steps)
        local = np.cumsum(grid * np.power(a, -steps), axis=1) * decay
        block_decay = np.full(blocks, decay[-1])
        decay_grid = np.broadcast_to(decay, local.shape)
    else:
        padded[:size] = np.where(active, x, 0.0)
        grid = padded.reshape(blocks, block)
        flags = np.zeros(blocks * block, dtype=np.int64)
        flags[:size] = active
        exponents = np.cumsum(flags.reshape(blocks, block), axis=1)
        table = np.arange(block + 1, dtype=np.float64)
        forward = np.power(a, table)
        decay_grid = forward[exponents]
        local = np.cumsum(grid * np.power(a, -table)[exponents], axis=1) * decay_grid
        block_decay = decay_grid[:, -1]
    # Carry the state across blocks; this loop has one iteration per block only.
    carries = np.empty(blocks, dtype=np.float64)
    state = y0
    for index, (end, factor) in enumerate(
        zip(local[:, -1].tolist(), block_decay.tolist(), strict=True)
    ):
        carries[index] = state
        state = end + factor * state
    result = local + decay_grid * carries[:, None]
    return result.ravel()[:size]
