"""Compiled kernels for RSI, ATR, STOCH, ADX/DI, CCI, WILLR, ROC and OBV.

Same contract as ``_jit_averages``: validated float64 inputs of equal length,
caller-allocated outputs filled with NaN warm-up then TA-Lib 0.8's values.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from quantdesk.engine.indicators._core import FloatArray
from quantdesk.engine.indicators._jit import (
    first_valid,
    first_valid2,
    first_valid3,
    fma,
    is_zero_scaled,
    jit,
    nan_fill,
)

#: CCI's scaling constant (Lambert): 70-80% of values fall within +-100.
CCI_CONSTANT: Final = 0.015


@jit
def rsi_kernel(x: FloatArray, period: int, out: FloatArray) -> None:
    """TA-Lib ``RSI``: Wilder averages of gains and losses, first value at bar ``period``.

    Each step is ``avg = (avg * (period - 1) + move) * (1 / period)``; the value is
    ``100 * (gain / (gain + loss))``, 0 unless ``gain + loss > 0`` (so also once a
    NaN has entered the averages, as in TA-Lib).
    """
    start = first_valid(x)
    first = start + period
    if not nan_fill(out, first):
        return
    inverse = 1.0 / period
    decay = float(period - 1)
    gain = 0.0
    loss = 0.0
    for index in range(start + 1, first + 1):
        change = x[index] - x[index - 1]
        up = change if change > 0.0 else 0.0
        gain += up
        loss += up - change
    gain *= inverse
    loss *= inverse
    total = gain + loss
    out[first] = 100.0 * (gain / total) if total > 0.0 else 0.0
    # Views starting at 0: loop indices known non-negative skip numba's wraparound.
    current, previous, values = x[first + 1 :], x[first:], out[first + 1 :]
    for index in range(values.size):
        change = current[index] - previous[index]
        up = change if change > 0.0 else 0.0
        gain = (gain * decay + up) * inverse
        loss = (loss * decay + (up - change)) * inverse
        total = gain + loss
        values[index] = 100.0 * (gain / total) if total > 0.0 else 0.0


@jit
def _true_range(high: float, low: float, previous_close: float) -> float:
    """Wilder's true range, compared in TA-Lib's order."""
    greatest = high - low
    gap = abs(previous_close - high)
    if gap > greatest:
        greatest = gap
    gap = abs(previous_close - low)
    if gap > greatest:
        greatest = gap
    return greatest


@jit
def atr_kernel(
    high: FloatArray, low: FloatArray, close: FloatArray, period: int, out: FloatArray
) -> None:
    """TA-Lib ``ATR``: true range inline, seeded with the mean of the first ``period``.

    Smoothed in TA-Lib 0.8's two-coefficient form, ``beta * atr + alpha * tr`` as
    one fma with ``beta = (period - 1) / period`` and ``alpha = 1 - beta``.
    """
    start = first_valid3(high, low, close)
    first = start + period
    if not nan_fill(out, first):
        return
    beta = (period - 1) / period
    alpha = 1.0 - beta
    total = 0.0
    for index in range(start + 1, first + 1):
        total += _true_range(high[index], low[index], close[index - 1])
    average = total / period
    out[first] = average
    highs, lows, closes, values = (
        high[first + 1 :],
        low[first + 1 :],
        close[first:],
        out[first + 1 :],
    )
    for index in range(values.size):
        true_range = _true_range(highs[index], lows[index], closes[index])
        average = fma(beta, average, alpha * true_range)
        values[index] = average


@jit
def _range_ratio(numerator: float, highest: float, lowest: float, factor: float) -> float:
    """``factor * (numerator / (highest - lowest))``, 0 for a range flat to 1e-14."""
    width = highest - lowest
    if is_zero_scaled(width, abs(highest) + abs(lowest)):
        return 0.0
    return factor * (numerator / width)


@jit
def _range_ratios(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    start: int,
    period: int,
    to_high: bool,
    out: FloatArray,
) -> None:
    """Fast %K (``to_high=False``) or Williams %R of every window, from bar
    ``start + period - 1`` on, into ``out``.

    Window extremes by van Herk / Gil-Werman: per block of ``period`` bars, a
    backward pass stores the block's suffix extremes; each window ending in the
    next block combines one of them with the running prefix extreme of that block.
    Fixed work per bar however the prices trend, and no data-dependent branches.
    """
    size = close.size
    top = np.empty(period, dtype=np.float64)
    bottom = np.empty(period, dtype=np.float64)
    for block in range(start, size - period + 1, period):
        end = block + period - 1
        highs, lows = high[block : end + 1], low[block : end + 1]
        highest, lowest = highs[period - 1], lows[period - 1]
        for offset in range(period - 1, -1, -1):
            highest = highs[offset] if highs[offset] > highest else highest
            lowest = lows[offset] if lows[offset] < lowest else lowest
            top[offset] = highest
            bottom[offset] = lowest
        # Windows ending at end + offset: this block's suffix from ``offset`` on,
        # plus the next block's bars up to end + offset.
        count = min(period, size - end)
        highs, lows, closes, values = (
            high[end : end + count],
            low[end : end + count],
            close[end : end + count],
            out[end : end + count],
        )
        rising, falling = -np.inf, np.inf
        for offset in range(count):
            if offset > 0:
                rising = highs[offset] if highs[offset] > rising else rising
                falling = lows[offset] if lows[offset] < falling else falling
            highest = rising if rising > top[offset] else top[offset]
            lowest = falling if falling < bottom[offset] else bottom[offset]
            if to_high:
                values[offset] = _range_ratio(highest - closes[offset], highest, lowest, -100.0)
            else:
                values[offset] = _range_ratio(closes[offset] - lowest, highest, lowest, 100.0)


@jit
def willr_kernel(
    high: FloatArray, low: FloatArray, close: FloatArray, period: int, out: FloatArray
) -> None:
    """TA-Lib ``WILLR``: ``-100 * ((highest - close) / (highest - lowest))``."""
    start = first_valid3(high, low, close)
    if nan_fill(out, start + period - 1):
        _range_ratios(high, low, close, start, period, True, out)


@jit
def _sma_into(source: FloatArray, begin: int, period: int, out: FloatArray) -> None:
    """TA-Lib's running-total SMA of ``source[begin:]``, written from ``begin + period - 1``."""
    total = 0.0
    for index in range(begin, begin + period - 1):
        total += source[index]
    for index in range(begin + period - 1, source.size):
        total += source[index]
        value = total
        total -= source[index - period + 1]
        out[index] = value / period


@jit
def stoch_kernel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    fastk_period: int,
    slowk_period: int,
    slowd_period: int,
    slowk: FloatArray,
    slowd: FloatArray,
) -> None:
    """TA-Lib ``STOCH`` with SMA smoothing: fast %K = ``100 * ((close - lowest) /
    (highest - lowest))``, slow %K = its SMA, slow %D = slow %K's SMA.

    Three passes: fast %K into ``slowd`` (scratch), its SMA into ``slowk``, that
    SMA's SMA into ``slowd``; then the warm-up bars are set to NaN.
    """
    start = first_valid3(high, low, close)
    fast_first = start + fastk_period - 1
    k_first = fast_first + slowk_period - 1
    first = k_first + slowd_period - 1
    if first < close.size:
        _range_ratios(high, low, close, start, fastk_period, False, slowd)
        _sma_into(slowd, fast_first, slowk_period, slowk)
        _sma_into(slowk, k_first, slowd_period, slowd)
    nan_fill(slowk, first)
    nan_fill(slowd, first)


@jit
def adx_kernel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    period: int,
    adx: FloatArray,
    plus_di: FloatArray,
    minus_di: FloatArray,
) -> None:
    """TA-Lib ``ADX``, ``PLUS_DI`` and ``MINUS_DI`` in one pass.

    +DM/-DM (the larger outside move, ties give 0) and the true range are summed
    Wilder-style (``s = s - s / period + x``, seeded with ``period - 1`` bars);
    DI = 100 * DM / TR from bar ``period`` (0 while TR is 0); DX = 100 * |+DI - -DI| /
    (+DI + -DI). ADX starts at bar ``2 * period - 1`` with the mean of the first
    ``period`` DX; a bar without a DX counts 0 there and later leaves ADX unchanged.
    """
    start = first_valid3(high, low, close)
    di_first = start + period
    first = di_first + period - 1
    nan_fill(adx, first)
    nan_fill(minus_di, di_first)
    if not nan_fill(plus_di, di_first):
        return
    plus_sum = 0.0
    minus_sum = 0.0
    range_sum = 0.0
    dx_total = 0.0
    average = 0.0
    for index in range(start + 1, close.size):
        up = high[index] - high[index - 1]
        down = low[index - 1] - low[index]
        plus = up if up > 0.0 and up > down else 0.0
        minus = down if down > 0.0 and down > up else 0.0
        true_range = _true_range(high[index], low[index], close[index - 1])
        if index < di_first:
            plus_sum += plus
            minus_sum += minus
            range_sum += true_range
            continue
        plus_sum = plus_sum - plus_sum / period + plus
        minus_sum = minus_sum - minus_sum / period + minus
        range_sum = range_sum - range_sum / period + true_range
        plus_value = 0.0
        minus_value = 0.0
        has_dx = False
        dx = 0.0
        if range_sum > 0.0:
            plus_value = (plus_sum / range_sum) * 100.0
            minus_value = (minus_sum / range_sum) * 100.0
            both = minus_value + plus_value
            if abs(both) >= 1e-14:
                has_dx = True
                dx = (abs(minus_value - plus_value) / both) * 100.0
        plus_di[index] = plus_value
        minus_di[index] = minus_value
        if index < first:
            dx_total += dx
        elif index == first:
            average = (dx_total + dx) / period
            adx[index] = average
        else:
            if has_dx:
                average = (average * (period - 1) + dx) / period
            adx[index] = average


@jit
def cci_kernel(
    high: FloatArray, low: FloatArray, close: FloatArray, period: int, out: FloatArray
) -> None:
    """TA-Lib ``CCI`` with its circular buffer of typical prices.

    Bar ``start + j`` lives in slot ``j % period``; the window mean and the mean
    absolute deviation are summed slot by slot, which reproduces TA-Lib's rounding
    exactly. 0 where the offset or the deviation is flat relative to the mean.
    """
    start = first_valid3(high, low, close)
    first = start + period - 1
    if not nan_fill(out, first):
        return
    ring = np.empty(period, dtype=np.float64)
    for index in range(start, first):
        ring[index - start] = (high[index] + low[index] + close[index]) / 3
    slot = period - 1
    for index in range(first, close.size):
        typical = (high[index] + low[index] + close[index]) / 3
        ring[slot] = typical
        slot = slot + 1 if slot + 1 < period else 0
        total = 0.0
        for value in ring:
            total += value
        mean = total / period
        deviation = 0.0
        for value in ring:
            deviation += abs(value - mean)
        offset = typical - mean
        level = abs(mean)
        mean_deviation = deviation / period
        if is_zero_scaled(offset, level) or is_zero_scaled(mean_deviation, level):
            out[index] = 0.0
        else:
            out[index] = offset / (mean_deviation * CCI_CONSTANT)


@jit
def roc_kernel(x: FloatArray, period: int, out: FloatArray) -> None:
    """TA-Lib ``ROC``: ``(x / x[period bars ago] - 1) * 100``, 0 where the old value is 0."""
    start = first_valid(x)
    if not nan_fill(out, start + period):
        return
    current, previous, values = x[start + period :], x[start:], out[start + period :]
    for index in range(values.size):
        old = previous[index]
        values[index] = (current[index] / old - 1.0) * 100.0 if old != 0.0 else 0.0


@jit
def obv_kernel(close: FloatArray, volume: FloatArray, out: FloatArray) -> None:
    """TA-Lib ``OBV``: the first bar's volume, then +volume on an up close, -volume
    on a down close, unchanged otherwise."""
    start = first_valid2(close, volume)
    if not nan_fill(out, start):
        return
    total = volume[start]
    out[start] = total
    current, previous = close[start + 1 :], close[start:]
    volumes, values = volume[start + 1 :], out[start + 1 :]
    for index in range(values.size):
        if current[index] > previous[index]:
            total += volumes[index]
        elif current[index] < previous[index]:
            total -= volumes[index]
        values[index] = total
