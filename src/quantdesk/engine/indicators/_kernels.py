"""Vectorized numpy rolling sums and variances for the indicators without a TA-Lib
counterpart (VWAP, rolling volatility), whose reference is pandas.

The TA-Lib indicators use the compiled kernels of ``_jit_averages`` and
``_jit_oscillators`` instead, which follow TA-Lib's own running totals.

Rolling-window functions return only the *valid part*: element ``j`` describes the
window ``x[j : j + period]``, so the result has ``len(x) - period + 1`` elements.
Windowed sums are differences of cumulative sums, computed per row of a few
hundred to a few thousand bars on values shifted by a reference point of the row:
a single global cumsum would grow with the series and lose digits on long inputs;
short shifted rows bound the magnitudes, hence the rounding error (~1e-12
relative). Kernels accept an optional ``out`` array so callers can write straight
into a NaN-prefixed result instead of copying.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from quantdesk.engine.indicators._core import FloatArray, IndexArray

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
