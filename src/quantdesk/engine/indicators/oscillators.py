"""Momentum oscillators matching TA-Lib: RSI, STOCH, ADX/DI, ROC, CCI, WILLR.

Every value is known at the close of the bar it is aligned with. Wilder-smoothed
indicators (RSI, ADX) use TA-Lib's default unstable period of 0, so their first
values depend on the seed exactly as TA-Lib's do.
"""

from __future__ import annotations

from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

from quantdesk.engine.indicators._core import (
    TA_EPSILON,
    FloatArray,
    as_float_array,
    as_float_arrays,
    check_period,
    is_zero_scaled,
    nan_array,
    sequential_sum,
    skip_leading_nans,
)
from quantdesk.engine.indicators._kernels import (
    linear_recurrence,
    rolling_max,
    rolling_mean,
    rolling_min,
)
from quantdesk.engine.indicators.volatility import true_range

#: CCI's scaling constant (Lambert): 70-80% of values fall within +-100.
CCI_CONSTANT: Final = 0.015


class StochResult(NamedTuple):
    """Slow stochastic %K and %D, in percent (0..100)."""

    slowk: FloatArray
    slowd: FloatArray


class ADXResult(NamedTuple):
    """ADX and the directional indicators, in percent (0..100)."""

    adx: FloatArray
    plus_di: FloatArray
    minus_di: FloatArray


def wilder_average(x: FloatArray, period: int, scale: float = 1.0) -> FloatArray:
    """Wilder's smoothed average of ``scale * x`` from its first value on.

    The first value is the mean of the first ``period`` values; then
    ``avg[t] = (avg[t-1] * (period - 1) + scale * x[t]) / period``.
    """
    out = np.empty(max(0, x.size - period + 1), dtype=np.float64)
    if out.size:
        out[0] = scale * sequential_sum(x[:period]) / period
        linear_recurrence(
            x[period:], (period - 1) / period, out[0], scale=scale / period, out=out[1:]
        )
    return out


def rsi(close: npt.ArrayLike, period: int = 14) -> FloatArray:
    """Relative strength index (Wilder), in percent (TA-Lib ``RSI``).

    The first value, at bar ``period``, uses the simple averages of the first
    ``period`` gains and losses. When both averages are exactly 0 (no change at all)
    the value is 0, as in TA-Lib.
    """
    x = as_float_array(close, "close")
    period = check_period(period, "period")

    def core(v: FloatArray) -> tuple[FloatArray]:
        out = nan_array(v.size)
        if v.size <= period:
            return (out,)
        change = np.diff(v)
        gain = wilder_average(np.maximum(change, 0.0), period)
        # Losses are averaged as negative changes and flipped by the scale factor.
        loss = wilder_average(np.minimum(change, 0.0), period, scale=-1.0)
        total = gain + loss
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.divide(gain, total)
        ratio *= 100.0
        ratio[total == 0.0] = 0.0
        out[period:] = ratio
        return (out,)

    (out,) = skip_leading_nans(core, x)
    return out


def stoch(
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    fastk_period: int = 5,
    slowk_period: int = 3,
    slowd_period: int = 3,
) -> StochResult:
    """Slow stochastic with SMA smoothing (``talib.STOCH`` with matype 0), in percent.

    fast %K = 100 * (close - lowest low) / (highest high - lowest low) over
    ``fastk_period`` bars (0 for a flat window); slow %K = SMA(fast %K, slowk_period);
    slow %D = SMA(slow %K, slowd_period). Both outputs start at bar
    ``fastk_period + slowk_period + slowd_period - 3``, as in TA-Lib.
    """
    h, lo, c = as_float_arrays(high=high, low=low, close=close)
    fastk_period = check_period(fastk_period, "fastk_period", minimum=1)
    slowk_period = check_period(slowk_period, "slowk_period", minimum=1)
    slowd_period = check_period(slowd_period, "slowd_period", minimum=1)

    def core(hv: FloatArray, lv: FloatArray, cv: FloatArray) -> tuple[FloatArray, ...]:
        slowk, slowd = nan_array(cv.size), nan_array(cv.size)
        start = fastk_period + slowk_period + slowd_period - 3
        if cv.size <= start:
            return slowk, slowd
        lowest = rolling_min(lv, fastk_period)
        highest = rolling_max(hv, fastk_period)
        fastk = range_ratio(cv[fastk_period - 1 :] - lowest, highest, lowest, 100.0)
        smoothed = rolling_mean(fastk, slowk_period)
        rolling_mean(smoothed, slowd_period, out=slowd[start:])
        slowk[start:] = smoothed[slowd_period - 1 :]
        return slowk, slowd

    slowk, slowd = skip_leading_nans(core, h, lo, c)
    return StochResult(slowk, slowd)


def range_ratio(
    numerator: FloatArray,
    highest: FloatArray,
    lowest: FloatArray,
    factor: float,
    out: FloatArray | None = None,
) -> FloatArray:
    """``numerator / ((highest - lowest) / factor)``, 0 where the range is flat.

    Flat means TA-Lib's scale-aware test ``|range| <= 1e-14 * (|highest| + |lowest|)``;
    the division order is TA-Lib's too (STOCH: factor 100, WILLR: factor -100).
    """
    width = highest - lowest
    tolerance = np.abs(highest)
    tolerance += np.abs(lowest)
    tolerance *= TA_EPSILON
    flat = np.abs(width) <= tolerance
    width /= factor
    with np.errstate(invalid="ignore", divide="ignore"):
        result = np.divide(numerator, width, out=out)
    result[flat] = 0.0
    return result


def _directional_movement(high: FloatArray, low: FloatArray) -> tuple[FloatArray, FloatArray]:
    """One-bar +DM and -DM for bars 1..n-1 (the larger outside move wins, ties give 0)."""
    up = np.diff(high)
    down = np.diff(low)
    np.negative(down, out=down)
    plus = np.maximum(up, 0.0)
    plus[up <= down] = 0.0
    minus = np.maximum(down, 0.0, out=down)
    minus[down <= up] = 0.0
    return plus, minus


def _wilder_sum(x: FloatArray, period: int, out: FloatArray | None = None) -> FloatArray:
    """Wilder's running sum seeded with ``period - 1`` values: ``s = s - s/period + x``."""
    seed = sequential_sum(x[: period - 1])
    return linear_recurrence(x[period - 1 :], 1.0 - 1.0 / period, seed, out=out)


def adx(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int = 14
) -> ADXResult:
    """Average directional index with +DI/-DI (TA-Lib ``ADX``, ``PLUS_DI``, ``MINUS_DI``).

    +DI/-DI start at bar ``period`` (0 while the smoothed true range is 0); ADX starts
    at bar ``2 * period - 1`` with the mean of the first ``period`` DX values. As in
    TA-Lib, a bar whose DX is undefined (flat range or no directional movement)
    leaves ADX unchanged and counts as 0 in the initial mean.
    """
    h, lo, c = as_float_arrays(high=high, low=low, close=close)
    period = check_period(period, "period")

    def core(hv: FloatArray, lv: FloatArray, cv: FloatArray) -> tuple[FloatArray, ...]:
        size = cv.size
        adx_line, plus_di, minus_di = nan_array(size), nan_array(size), nan_array(size)
        if size <= period:
            return adx_line, plus_di, minus_di
        plus_dm, minus_dm = _directional_movement(hv, lv)
        smoothed_tr = _wilder_sum(true_range(hv, lv, cv)[1:], period)
        plus = _wilder_sum(plus_dm, period, out=plus_di[period:])
        minus = _wilder_sum(minus_dm, period, out=minus_di[period:])
        no_range = ~(smoothed_tr > 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            for di in (plus, minus):
                di /= smoothed_tr
                di *= 100.0
                di[no_range] = 0.0
            di_sum = minus + plus
            # TA-Lib keeps the fixed TA_IS_ZERO band here: DIs are dimensionless.
            no_dx = no_range | (np.abs(di_sum) < TA_EPSILON)
            dx = np.subtract(minus, plus)
            np.abs(dx, out=dx)
            dx /= di_sum
            dx *= 100.0
        dx[no_dx] = 0.0
        if dx.size >= period:
            first = sequential_sum(dx[:period]) / period
            adx_line[2 * period - 1] = first
            skipped = no_dx[period:]
            linear_recurrence(
                dx[period:],
                (period - 1) / period,
                first,
                scale=1.0 / period,
                # The masked kernel is slower; most series never need it.
                active=~skipped if skipped.any() else None,
                out=adx_line[2 * period :],
            )
        return adx_line, plus_di, minus_di

    adx_line, plus_di, minus_di = skip_leading_nans(core, h, lo, c)
    return ADXResult(adx_line, plus_di, minus_di)


def roc(close: npt.ArrayLike, period: int = 10) -> FloatArray:
    """Rate of change in percent: ``100 * (close / close[period bars ago] - 1)``.

    TA-Lib ``ROC``; first value at bar ``period``; 0 where the old price is 0.
    """
    x = as_float_array(close, "close")
    period = check_period(period, "period", minimum=1)

    def core(v: FloatArray) -> tuple[FloatArray]:
        out = nan_array(v.size)
        if v.size > period:
            previous = v[:-period]
            value = out[period:]
            with np.errstate(invalid="ignore", divide="ignore"):
                np.divide(v[period:], previous, out=value)
            value -= 1.0
            value *= 100.0
            value[previous == 0.0] = 0.0
        return (out,)

    (out,) = skip_leading_nans(core, x)
    return out


def cci(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int = 14
) -> FloatArray:
    """Commodity channel index (TA-Lib ``CCI``), dimensionless.

    ``(tp - mean(tp)) / (0.015 * mean(|tp - mean(tp)|))`` over ``period`` bars with
    the typical price ``tp = (high + low + close) / 3``; first value at bar
    ``period - 1``. 0 when the window is flat relative to its own mean level
    (TA-Lib's scale-aware zero test).

    The window sums are accumulated in TA-Lib's circular-buffer order, so results
    are bit-identical to TA-Lib 0.8's, including on the degenerate windows where
    the rounding order decides between 0 and a value.
    """
    h, lo, c = as_float_arrays(high=high, low=low, close=close)
    period = check_period(period, "period")

    def core(hv: FloatArray, lv: FloatArray, cv: FloatArray) -> tuple[FloatArray]:
        size = cv.size
        if size < period:
            return (nan_array(size),)
        typical = (hv + lv + cv) / 3
        rows = -(-size // period)
        grid = np.full(rows * period, np.nan)
        grid[:size] = typical
        # Bar r*period + q is element [q, r]: slot-major, so that every update below
        # runs along a long contiguous axis.
        current = np.ascontiguousarray(grid.reshape(rows, period).T)
        previous = np.empty_like(current)
        previous[:, 0] = np.nan
        previous[:, 1:] = current[:, :-1]
        # TA-Lib's circular-buffer slot j holds the bar of this block if j <= q, else
        # the bar of the previous one; summing slot by slot in that order reproduces
        # its floating-point results exactly.
        mean = np.zeros((period, rows))
        for slot in range(period):
            mean[slot:] += current[slot]
            mean[:slot] += previous[slot]
        mean /= period
        deviation = np.zeros((period, rows))
        scratch = np.empty((period, rows))
        for slot in range(period):
            for target, source in ((slice(slot, None), current), (slice(None, slot), previous)):
                buffer = scratch[target]
                np.subtract(source[slot], mean[target], out=buffer)
                np.abs(buffer, out=buffer)
                deviation[target] += buffer
        deviation /= period
        mean_flat = mean.T.ravel()[period - 1 : size]
        mean_dev = deviation.T.ravel()[period - 1 : size]
        offset = typical[period - 1 :] - mean_flat
        level = np.abs(mean_flat)
        flat = is_zero_scaled(offset, level) | is_zero_scaled(mean_dev, level)
        out = nan_array(size)
        value = out[period - 1 :]
        mean_dev *= CCI_CONSTANT
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(offset, mean_dev, out=value)
        value[flat] = 0.0
        return (out,)

    (out,) = skip_leading_nans(core, h, lo, c)
    return out


def willr(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int = 14
) -> FloatArray:
    """Williams %R in percent, from -100 (close at the low) to 0 (TA-Lib ``WILLR``).

    ``-100 * (highest high - close) / (highest high - lowest low)`` over ``period``
    bars; first value at bar ``period - 1``; 0 for a flat window.
    """
    h, lo, c = as_float_arrays(high=high, low=low, close=close)
    period = check_period(period, "period")

    def core(hv: FloatArray, lv: FloatArray, cv: FloatArray) -> tuple[FloatArray]:
        out = nan_array(cv.size)
        if cv.size >= period:
            highest = rolling_max(hv, period)
            lowest = rolling_min(lv, period)
            numerator = highest - cv[period - 1 :]
            range_ratio(numerator, highest, lowest, -100.0, out=out[period - 1 :])
        return (out,)

    (out,) = skip_leading_nans(core, h, lo, c)
    return out
