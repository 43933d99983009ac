"""The price series a backtest runs on, checked once at the boundary."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Int8Array = npt.NDArray[np.int8]


@dataclass(frozen=True, slots=True, eq=False)
class Bars:
    """OHLC(V) columns, oldest bar first, all the same length.

    Prices are float64 in quote currency; ``ts`` (optional) is each bar's open time in
    integer seconds since the Unix epoch (UTC), strictly increasing. Only ``ts`` gives
    calendar time; without it durations are in bars and CAGR uses ``periods_per_year``.
    Build with ``Bars.of(...)``, which converts and validates.
    """

    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray | None = None
    ts: IntArray | None = None

    @classmethod
    def of(
        cls,
        open: npt.ArrayLike,
        high: npt.ArrayLike,
        low: npt.ArrayLike,
        close: npt.ArrayLike,
        volume: npt.ArrayLike | None = None,
        ts: npt.ArrayLike | None = None,
    ) -> Bars:
        names = ("open", "high", "low", "close")
        prices = (open, high, low, close)
        columns = [_floats(name, v) for name, v in zip(names, prices, strict=True)]
        size = columns[3].size
        if size < 2:
            raise ValueError("a backtest needs at least 2 bars")
        if any(column.size != size for column in columns):
            raise ValueError("open, high, low and close must have the same length")
        if not all(np.isfinite(column).all() for column in columns):
            raise ValueError("prices must be finite numbers (drop or fill missing bars)")
        if not (columns[3] > 0).all() or not (columns[0] > 0).all():
            raise ValueError("open and close prices must be > 0")
        vol = None if volume is None else _floats("volume", volume)
        if vol is not None and vol.size != size:
            raise ValueError("volume must have the bars' length")
        stamps = None
        if ts is not None:
            stamps = np.ascontiguousarray(ts, dtype=np.int64)
            if stamps.shape != (size,):
                raise ValueError("ts must be a 1-D array with the bars' length")
            if not (np.diff(stamps) > 0).all():
                raise ValueError("ts must be strictly increasing")
        return cls(columns[0], columns[1], columns[2], columns[3], volume=vol, ts=stamps)

    def __len__(self) -> int:
        return int(self.close.size)


def _floats(name: str, values: npt.ArrayLike) -> FloatArray:
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {array.shape}")
    return array
