"""The price series a signal strategy reads, checked once at the boundary."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Int8Array = npt.NDArray[np.int8]


@dataclass(frozen=True, slots=True, eq=False)
class OHLCV:
    """OHLCV columns, oldest bar first, all float64 and the same length.

    Prices are in quote currency, volume in units traded. Bar ``t``'s values are known at
    its close; a strategy's output at ``t`` may use bars ``0..t`` only. Build with
    ``OHLCV.of(...)``, which converts and validates.
    """

    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    @classmethod
    def of(
        cls,
        open: npt.ArrayLike,
        high: npt.ArrayLike,
        low: npt.ArrayLike,
        close: npt.ArrayLike,
        volume: npt.ArrayLike,
    ) -> OHLCV:
        names = ("open", "high", "low", "close", "volume")
        columns = [
            _column(name, values)
            for name, values in zip(names, (open, high, low, close, volume), strict=True)
        ]
        size = columns[0].size
        if any(column.size != size for column in columns):
            sizes = ", ".join(f"{n}={c.size}" for n, c in zip(names, columns, strict=True))
            raise ValueError(f"OHLCV columns must have the same length, got {sizes}")
        if not all(np.isfinite(column).all() for column in columns):
            raise ValueError("OHLCV values must be finite numbers (drop or fill missing bars)")
        return cls(*columns)

    def __len__(self) -> int:
        return int(self.close.size)

    def head(self, count: int) -> OHLCV:
        """The first ``count`` bars: the series as it stood at the close of bar ``count-1``."""
        return OHLCV(
            self.open[:count],
            self.high[:count],
            self.low[:count],
            self.close[:count],
            self.volume[:count],
        )


def _column(name: str, values: npt.ArrayLike) -> FloatArray:
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {array.shape}")
    return array
