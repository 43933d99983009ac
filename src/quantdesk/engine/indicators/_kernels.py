"""Vectorized numpy kernels shared by the batch indicators.

Rolling-window functions return only the *valid part*: element ``j`` describes the
window ``x[j : j + period]``, so the result has ``len(x) - period + 1`` elements.

Three techniques keep these both fast and accurate to ~1e-12 relative:

* Windowed sums are differences of cumulative sums, computed per row of a few
  hundred to a few thousand bars on values shifted by a reference point of the row.
  A single global cumsum would grow with the series and lose digits on long
  inputs; short shifted rows bound the magnitudes, hence the rounding error.
* First-order linear recurrences (EMA, Wilder smoothing) have no vectorized numpy
  primitive and scipy is not available. ``linear_recurrence`` solves them blockwise
  in closed form, ``y[t] = a**t * (y0 + sum_j x[j] * a**-j)``, with blocks short
  enough that ``a**-t`` cannot overflow; only the block carries are sequential.
* Rolling extremes combine two overlapping power-of-two spans built by doubling,
  which is exact and needs only ``log2(period) + 1`` passes.

Kernels accept an optional ``out`` array so callers can write straight into a
NaN-prefixed result instead of copying.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Final

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from quantdesk.engine.indicators._core import BoolArray, FloatArray, IndexArray

#: Largest ``a**-t`` factor the recurrence kernel lets a block reach (about 1e100).
_MAX_LOG_GROWTH: Final = 100 * math.log(10)

#: eps / 1e-10: see ``rolling_mean_variance``.
_VARIANCE_GUARD: Final = float(np.finfo(np.float64).eps) * 1e10

#: Cap on gathered elements when recomputing suspicious variance windows exactly.
_GATHER_ELEMENTS: Final = 1 << 22


def _output(out: FloatArray | None, size: int) -> FloatArray:
    if out is None:
        return np.empty(size, dtype=np.float64)
    if out.shape != (size,) or not out.flags.c_contiguous:
        raise ValueError(f"out must be a contiguous array of {size} elements")
    return out


def _row_blocks(x: FloatArray, width: int, per_row: int) -> Iterator[tuple[FloatArray, slice]]:
    """Split the windows of ``x`` into rows of ``per_row`` consecutive windows.

    Yields ``(rows, outputs)``: ``rows[r]`` is the strided view
    ``x[start + r*per_row : start + (r+1)*per_row + width - 1]`` and ``outputs`` the
    slice of the valid-part result those rows produce. The last, shorter row comes
    separately, so nothing is padded or copied.
    """
    valid = _valid_size(x, width)
    full = valid - valid % per_row
    if full:
        view = sliding_window_view(x[: full + width - 1], per_row + width - 1)[::per_row]
        yield view, slice(0, full)
    if full < valid:
        yield x[full:][None, :], slice(full, valid)


def _window_sums(cumulative: FloatArray, width: int, out: FloatArray) -> FloatArray:
    """Per-row window sums from inclusive row cumsums: ``C[e] - C[e - width]``."""
    out[:, 0] = cumulative[:, width - 1]
    np.subtract(cumulative[:, width:], cumulative[:, :-width], out=out[:, 1:])
    return out


def _valid_size(x: FloatArray, period: int) -> int:
    return max(0, x.size - period + 1)


def rolling_mean(x: FloatArray, period: int, out: FloatArray | None = None) -> FloatArray:
    """Mean of every ``period``-bar window (valid part)."""
    out = _output(out, _valid_size(x, period))
    if period == 1:
        out[:] = x
        return out
    for rows, outputs in _row_blocks(x, period, max(4 * period, 1024)):
        means = out[outputs].reshape(rows.shape[0], -1)
        shift = rows[:, :1].copy()
        shifted = np.subtract(rows, shift)
        np.cumsum(shifted, axis=1, out=shifted)
        _window_sums(shifted, period, means)
        means /= period
        means += shift
    return out


def rolling_sum(x: FloatArray, period: int, out: FloatArray | None = None) -> FloatArray:
    """Sum of every ``period``-bar window (valid part), without shifting.

    Unlike :func:`rolling_mean` no offset is subtracted, so a window of zeros sums to
    exactly 0 - VWAP relies on that to detect bars without volume.
    """
    out = _output(out, _valid_size(x, period))
    if period == 1:
        out[:] = x
        return out
    for rows, outputs in _row_blocks(x, period, max(4 * period, 1024)):
        sums = out[outputs].reshape(rows.shape[0], -1)
        _window_sums(np.cumsum(rows, axis=1), period, sums)
    return out


def rolling_weighted_mean(x: FloatArray, period: int, out: FloatArray | None = None) -> FloatArray:
    """Linearly weighted mean (weights 1..period, newest heaviest) of every window."""
    out = _output(out, _valid_size(x, period))
    if period == 1:
        out[:] = x
        return out
    for rows, outputs in _row_blocks(x, period, max(4 * period, 256)):
        weighted = out[outputs].reshape(rows.shape[0], -1)
        count = weighted.shape[1]
        shift = rows[:, :1].copy()
        level1 = np.subtract(rows, shift)
        np.cumsum(level1, axis=1, out=level1)  # C[i] = y[0] + ... + y[i]
        level2 = np.cumsum(level1, axis=1)  # D[i] = C[0] + ... + C[i]
        # For the window y[e-period+1 .. e]: sum(weight * y) = period * C[e] -
        # (D[e-1] - D[e-period-1]), where D[-1] = D[-2] = 0 (the first two windows).
        older = np.empty_like(weighted)
        first = min(2, count)
        older[:, :first] = level2[:, period - 2 : period - 2 + first]
        if count > 2:
            np.subtract(
                level2[:, period : period + count - 2], level2[:, : count - 2], out=older[:, 2:]
            )
        np.multiply(level1[:, period - 1 :], period, out=weighted)
        weighted -= older
        weighted /= period * (period + 1) / 2
        weighted += shift
    return out


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


def rolling_mean_variance(
    x: FloatArray,
    period: int,
    mean_out: FloatArray | None = None,
    variance_out: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Mean and population variance (ddof=0, never negative) of every window.

    The fast path uses windowed sums of values centred on their row's mean,
    ``E[y^2] - E[y]^2``. Where that subtraction may have lost digits (the window is
    flat relative to the sums it is computed from) the window is recomputed exactly
    with a two-pass formula, so the relative error stays below ~1e-10 and flat
    stretches give exactly 0.
    """
    valid = _valid_size(x, period)
    mean_out = _output(mean_out, valid)
    variance_out = _output(variance_out, valid)
    if period == 1:
        mean_out[:] = x
        variance_out[:] = 0.0
        return mean_out, variance_out
    # Short rows centred on their own mean keep the sums of squares close to the
    # windows' own spread, so few windows need the exact fallback even on trends.
    for rows, outputs in _row_blocks(x, period, max(period, 64)):
        count = rows.shape[0]
        mean = mean_out[outputs].reshape(count, -1)
        variance = variance_out[outputs].reshape(count, -1)
        centre = rows.mean(axis=1, keepdims=True)
        shifted = np.subtract(rows, centre)
        squares = np.multiply(shifted, shifted)
        np.cumsum(shifted, axis=1, out=shifted)
        np.cumsum(squares, axis=1, out=squares)
        _window_sums(shifted, period, mean)
        mean /= period
        _window_sums(squares, period, variance)
        variance /= period
        # The rounding error of a windowed sum of squares is about eps times the
        # running sum it was differenced from: flag windows where that could exceed
        # 1e-10 of the variance (this also covers TA-Lib's 1e-6 cancellation test).
        variance -= mean * mean
        suspect = variance < squares[:, period - 1 :] * _VARIANCE_GUARD
        mean += centre
        starts = np.flatnonzero(suspect) + outputs.start
        if starts.size:
            variance_out[starts] = _exact_variance(x, period, starts)
    return mean_out, variance_out


def rolling_variance(x: FloatArray, period: int) -> FloatArray:
    """Population variance of every window; see :func:`rolling_mean_variance`."""
    return rolling_mean_variance(x, period)[1]


def rolling_max(x: FloatArray, period: int) -> FloatArray:
    """Maximum of every window (exact)."""
    return _rolling_extreme(x, period, np.maximum)


def rolling_min(x: FloatArray, period: int) -> FloatArray:
    """Minimum of every window (exact)."""
    return _rolling_extreme(x, period, np.minimum)


def _rolling_extreme(x: FloatArray, period: int, op: np.ufunc) -> FloatArray:
    """Window extremes by doubling: O(n log period) in ``log2(period) + 1`` passes.

    After ``k`` passes ``span[j]`` is the extreme of ``x[j : j + 2**k]``; a window of
    any length is then covered by two overlapping power-of-two spans.
    """
    if x.size < period:
        return np.empty(0, dtype=np.float64)
    span = x
    width = 1
    while 2 * width <= period:
        span = op(span[:-width], span[width:])
        width *= 2
    valid = x.size - period + 1
    if width == period:
        return span[:valid].copy() if span is x else span[:valid]
    result: FloatArray = op(span[:valid], span[period - width : period - width + valid])
    return result


def linear_recurrence(
    x: FloatArray,
    a: float,
    y0: float,
    *,
    scale: float = 1.0,
    active: BoolArray | None = None,
    out: FloatArray | None = None,
) -> FloatArray:
    """Solve ``y[t] = a * y[t-1] + scale * x[t]`` with ``y[-1] = y0``, for ``0 <= a < 1``.

    Where ``active[t]`` is False the step is skipped instead: ``y[t] = y[t-1]`` and
    ``x[t]`` is ignored (ADX keeps its previous value on bars without a DX).
    ``out``, if given, must be a contiguous float64 array of ``x``'s length; the
    result is written into it (saving an allocation and a copy per call).
    """
    size = x.size
    if out is None:
        out = np.empty(size, dtype=np.float64)
    elif out.shape != (size,) or not out.flags.c_contiguous:
        raise ValueError("out must be a contiguous array of the input's length")
    if not 0.0 <= a < 1.0:
        raise ValueError(f"decay must be in [0, 1), got {a}")
    if size == 0:
        return out
    if active is not None:
        if a == 0.0:
            raise ValueError("a masked recurrence needs a decay > 0")
        out[:] = _masked_recurrence(x, a, y0, scale, active)
        return out
    if a == 0.0:
        return np.multiply(x, scale, out=out)
    block = max(1, min(size, int(_MAX_LOG_GROWTH / -math.log(a))))
    steps = np.arange(1.0, block + 1.0)
    forward = np.power(a, steps)
    inverse = np.power(a, -steps) * scale
    # Within a block: y[t] = a**(t+1) * (carry + sum_{j<=t} scale * x[j] * a**-(j+1)).
    full = size - size % block
    state = y0
    if full:
        head = out[:full].reshape(-1, block)
        np.multiply(x[:full].reshape(-1, block), inverse, out=head)
        np.cumsum(head, axis=1, out=head)
        carries, state = _carries(head[:, -1], forward[-1], y0)
        head += carries[:, None]
        head *= forward
    if full < size:
        tail = out[full:]
        np.multiply(x[full:], inverse[: size - full], out=tail)
        np.cumsum(tail, out=tail)
        tail += state
        tail *= forward[: size - full]
    return out


def _carries(sums: FloatArray, block_decay: float, y0: float) -> tuple[FloatArray, float]:
    """State entering each block, and after the last: ``c[b+1] = a**B * (sums[b] + c[b])``.

    The only sequential part of the recurrence: one iteration per block (a few
    hundred to a few thousand for a million bars).
    """
    carries = np.empty(sums.size, dtype=np.float64)
    state = y0
    for index, total in enumerate(sums.tolist()):
        carries[index] = state
        state = block_decay * (total + state)
    return carries, state


def _masked_recurrence(
    x: FloatArray, a: float, y0: float, scale: float, active: BoolArray
) -> FloatArray:
    """``linear_recurrence`` where only the active steps decay and accumulate."""
    size = x.size
    block = max(1, min(size, int(_MAX_LOG_GROWTH / -math.log(a))))
    blocks = -(-size // block)
    padded = np.zeros(blocks * block, dtype=np.float64)
    padded[:size] = np.where(active, x, 0.0)
    grid = padded.reshape(blocks, block)
    flags = np.zeros(blocks * block, dtype=np.int64)
    flags[:size] = active
    # The exponent is the number of active steps so far in the block.
    exponents = np.cumsum(flags.reshape(blocks, block), axis=1)
    table = np.arange(block + 1, dtype=np.float64)
    decay = np.power(a, table)[exponents]
    grid *= (np.power(a, -table) * scale)[exponents]
    np.cumsum(grid, axis=1, out=grid)
    carries = np.empty(blocks, dtype=np.float64)
    state = y0
    for index, (total, factor) in enumerate(
        zip(grid[:, -1].tolist(), decay[:, -1].tolist(), strict=True)
    ):
        carries[index] = state
        state = factor * (total + state)
    grid += carries[:, None]
    grid *= decay
    return grid.ravel()[:size]
