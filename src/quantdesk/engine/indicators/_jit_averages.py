"""Compiled kernels for the moving averages, MACD and Bollinger Bands.

Each kernel takes validated float64 arrays and periods (see the public wrappers in
``moving_averages`` and ``volatility``) and fills caller-allocated outputs of the
input's length: NaN before the first value, then the values TA-Lib 0.8 computes,
with its arithmetic in its order (see ``_jit``).
"""

from __future__ import annotations

import math

from quantdesk.engine.indicators._core import FloatArray
from quantdesk.engine.indicators._jit import first_valid, fma, jit, nan_fill


@jit
def sma_kernel(x: FloatArray, period: int, out: FloatArray) -> None:
    """TA-Lib ``SMA``: a running window total (add the new bar, then drop the oldest)."""
    start = first_valid(x)
    first = start + period - 1
    if not nan_fill(out, first):
        return
    total = 0.0
    for index in range(start, first):
        total += x[index]
    entering, leaving, values = x[first:], x[start:], out[first:]
    for index in range(values.size):
        total += entering[index]
        value = total
        total -= leaving[index]
        values[index] = value / period


@jit
def ema_kernel(x: FloatArray, period: int, out: FloatArray) -> None:
    """TA-Lib ``EMA``: seeded with the SMA of the first ``period`` bars, then
    ``y += k * (x - y)`` as one fma, k = 2 / (period + 1). Period 1 copies the input."""
    start = first_valid(x)
    first = start + period - 1
    if not nan_fill(out, first):
        return
    if period == 1:
        out[first:] = x[first:]
        return
    total = 0.0
    for index in range(start, first + 1):
        total += x[index]
    state = total / period
    out[first] = state
    k = 2.0 / (period + 1)
    inputs, values = x[first + 1 :], out[first + 1 :]
    for index in range(values.size):
        state = fma(inputs[index] - state, k, state)
        values[index] = state


@jit
def _weighted_sums(x: FloatArray, begin: int, end: int) -> tuple[float, float]:
    """Sum and weighted sum (weights 1, 2, ... oldest first) of ``x[begin:end]``."""
    plain = 0.0
    weighted = 0.0
    for weight, index in enumerate(range(begin, end), 1):
        plain += x[index]
        weighted += x[index] * weight
    return plain, weighted


@jit
def wma_kernel(x: FloatArray, period: int, out: FloatArray) -> None:
    """TA-Lib ``WMA``: weights 1..period kept as a running weighted sum and plain sum.

    Each bar adds ``period * new`` to the weighted sum, which then sheds one copy of
    every value in the window (the plain sum). Both sums are rebuilt from the window
    every ``8 * period`` bars so rounding cannot accumulate (TA-Lib 0.8).
    """
    start = first_valid(x)
    first = start + period - 1
    if not nan_fill(out, first):
        return
    if period == 1:
        out[first:] = x[first:]
        return
    divider = period * (period + 1) / 2.0
    plain, weighted = _weighted_sums(x, start, first)
    oldest = 0.0
    countdown = 8 * period
    entering, leaving, values = x[first:], x[start:], out[first:]
    for index in range(values.size):
        value = entering[index]
        plain += value
        plain -= oldest
        weighted += value * period
        countdown -= 1
        if countdown <= 0:
            countdown = 8 * period
            plain, weighted = _weighted_sums(x, start + index, first + index + 1)
        oldest = leaving[index]
        values[index] = weighted / divider
        weighted -= plain


@jit
def macd_kernel(
    x: FloatArray,
    fast: int,
    slow: int,
    signal: int,
    line: FloatArray,
    signal_line: FloatArray,
    hist: FloatArray,
) -> None:
    """TA-Lib ``MACD`` (``fast <= slow``) in one pass: both EMAs, the line and its signal.

    The fast EMA is seeded at bar ``slow - 1`` with the mean of the ``fast`` bars
    ending there (TA-Lib's alignment); the signal EMA with the mean of the first
    ``signal`` MACD values; all three outputs start at bar ``slow + signal - 2``.
    """
    start = first_valid(x)
    seeded = start + slow - 1  # first bar of the MACD line
    first = seeded + signal - 1  # first output bar
    nan_fill(signal_line, first)
    nan_fill(hist, first)
    if not nan_fill(line, first):
        return
    slow_total = 0.0
    for index in range(start, seeded - fast + 1):
        slow_total += x[index]
    fast_total = 0.0
    for index in range(seeded - fast + 1, seeded + 1):
        fast_total += x[index]
        slow_total += x[index]
    slow_ema = slow_total / slow
    fast_ema = fast_total / fast
    slow_k = 2.0 / (slow + 1)
    fast_k = 2.0 / (fast + 1)
    signal_k = 2.0 / (signal + 1)
    value = fast_ema - slow_ema
    signal_total = value
    for index in range(seeded + 1, first + 1):
        slow_ema = fma(x[index] - slow_ema, slow_k, slow_ema)
        fast_ema = fma(x[index] - fast_ema, fast_k, fast_ema)
        value = fast_ema - slow_ema
        signal_total += value
    average = signal_total / signal
    line[first] = value
    signal_line[first] = average
    hist[first] = value - average
    inputs = x[first + 1 :]
    lines, signals, hists = line[first + 1 :], signal_line[first + 1 :], hist[first + 1 :]
    for index in range(inputs.size):
        slow_ema = fma(inputs[index] - slow_ema, slow_k, slow_ema)
        fast_ema = fma(inputs[index] - fast_ema, fast_k, fast_ema)
        value = fast_ema - slow_ema
        average = fma(value - average, signal_k, average)
        lines[index] = value
        signals[index] = average
        hists[index] = value - average


@jit
def _shifted_sums(x: FloatArray, begin: int, end: int, shift: float) -> tuple[float, float]:
    """Sum and sum of squares of ``x[begin:end] - shift``, left to right."""
    total = 0.0
    squares = 0.0
    for index in range(begin, end):
        deviation = x[index] - shift
        total += deviation
        squares += deviation * deviation
    return total, squares


@jit
def bbands_kernel(
    x: FloatArray,
    period: int,
    nbdev_up: float,
    nbdev_dn: float,
    upper: FloatArray,
    middle: FloatArray,
    lower: FloatArray,
) -> None:
    """TA-Lib ``BBANDS`` with its SMA fast path, in one pass.

    The middle band is the SMA running total. The variance comes from running sums
    of the values minus a shift (``E[d^2] - E[d]^2``); when that subtraction would
    lose digits (variance below 1e-6 of ``E[d^2]``), when the bar leaving the
    window dwarfs the sum of squares, or every ``32 * period`` bars, the window is
    re-centred on its own mean and summed afresh, and a re-centred variance below
    1e-12 of ``E[d^2]`` is rounding residue, set to 0.
    """
    start = first_valid(x)
    first = start + period - 1
    nan_fill(upper, first)
    nan_fill(lower, first)
    if not nan_fill(middle, first):
        return
    inverse = 1.0 / period
    shift = x[start]
    total = 0.0
    for index in range(start, first):
        total += x[index]
    shifted, squares = _shifted_sums(x, start, first, shift)
    countdown = 32 * period
    entering, leaving = x[first:], x[start:]
    uppers, middles, lowers = upper[first:], middle[first:], lower[first:]
    for index in range(entering.size):
        value = entering[index]
        total += value
        deviation = value - shift
        shifted += deviation
        squares += deviation * deviation
        mean_shifted = shifted * inverse
        variance = squares * inverse - mean_shifted * mean_shifted
        mean = total / period
        old = leaving[index]
        total -= old
        deviation = old - shift
        shifted -= deviation
        dropped = deviation * deviation
        squares -= dropped
        countdown -= 1
        if variance < 1e-6 * (squares * inverse) or dropped > 1e6 * squares or countdown <= 0:
            countdown = 32 * period
            window = start + index  # the window of this bar: x[window : window + period]
            window_total = 0.0
            for inner in range(window, window + period):
                window_total += x[inner]
            shift = window_total * inverse
            shifted, squares = _shifted_sums(x, window, window + period, shift)
            mean_shifted = shifted * inverse
            variance = squares * inverse - mean_shifted * mean_shifted
            if variance < 1e-12 * (squares * inverse):
                variance = 0.0
            deviation = x[window] - shift
            shifted -= deviation
            squares -= deviation * deviation
        sigma = math.sqrt(variance) if variance != 0.0 else 0.0
        middles[index] = mean
        if nbdev_up == nbdev_dn:
            width = sigma * nbdev_up
            uppers[index] = mean + width
            lowers[index] = mean - width
        else:
            uppers[index] = fma(sigma, nbdev_up, mean)
            lowers[index] = mean - sigma * nbdev_dn
