"""Volume indicators: on-balance volume and VWAP.

Every value is known at the close of the bar it is aligned with.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from quantdesk.engine.indicators._core import (
    FloatArray,
    as_float_arrays,
    check_period,
    nan_array,
    skip_leading_nans,
)
from quantdesk.engine.indicators._jit_oscillators import obv_kernel
from quantdesk.engine.indicators._kernels import rolling_sum


def obv(close: npt.ArrayLike, volume: npt.ArrayLike) -> FloatArray:
    """On-balance volume, in volume units (TA-Lib ``OBV``).

    Starts at bar 0 with that bar's volume; then adds the volume on an up close,
    subtracts it on a down close and carries the total on an unchanged close.
    """
    c, v = as_float_arrays(close=close, volume=volume)
    out = np.empty(c.size)
    obv_kernel(c, v, out)
    return out


def vwap(
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    volume: npt.ArrayLike,
    window: int | None = None,
) -> FloatArray:
    """Volume-weighted average price, in price units (no TA-Lib equivalent).

    Each bar contributes its typical price ``(high + low + close) / 3`` weighted by its
    volume: ``sum(tp * volume) / sum(volume)``.

    * ``window=None``: cumulative from the first bar of the input (anchor a session
      VWAP by passing only that session's bars). First value at bar 0.
    * ``window=n``: over the last ``n`` bars; first value at bar ``n - 1``.

    NaN while the summed volume is 0 (the average is undefined).
    """
    h, lo, c, v = as_float_arrays(high=high, low=low, close=close, volume=volume)
    if window is not None:
        window = check_period(window, "window", minimum=1)

    def core(hv: FloatArray, lv: FloatArray, cv: FloatArray, vv: FloatArray) -> tuple[FloatArray]:
        out = nan_array(cv.size)
        weighted = hv + lv
        weighted += cv
        weighted /= 3
        weighted *= vv
        if window is None:
            price_volume, total_volume, value = np.cumsum(weighted), np.cumsum(vv), out
        elif cv.size < window:
            return (out,)
        else:
            price_volume = rolling_sum(weighted, window)
            total_volume = rolling_sum(vv, window)
            value = out[window - 1 :]
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(price_volume, total_volume, out=value)
        value[~(total_volume > 0.0)] = np.nan
        return (out,)

    (out,) = skip_leading_nans(core, h, lo, c, v)
    return out
