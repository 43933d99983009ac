"""OHLCV arrays for the engine tests: random walks and the genuine GOOG daily series."""

from __future__ import annotations

import importlib.resources
from typing import NamedTuple

import numpy as np
import pandas as pd

from quantdesk.engine.indicators import FloatArray


class OHLCV(NamedTuple):
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray


def random_ohlcv(size: int, seed: int) -> OHLCV:
    """A geometric random walk with valid bars (low <= open, close <= high)."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, size)))
    open_ = close * np.exp(rng.normal(0.0, 0.01, size))
    high = np.maximum(open_, close) * (1.0 + rng.uniform(0.0, 0.02, size))
    low = np.minimum(open_, close) * (1.0 - rng.uniform(0.0, 0.02, size))
    volume = rng.integers(0, 1_000_000, size).astype(np.float64)
    return OHLCV(open_, high, low, close, volume)


def goog_ohlcv() -> OHLCV:
    """The daily GOOG series shipped with the ``backtesting`` package."""
    resource = importlib.resources.files("backtesting.test") / "GOOG.csv"
    with importlib.resources.as_file(resource) as path:
        frame = pd.read_csv(path, index_col=0)
    columns = [
        frame[name].to_numpy(dtype=np.float64)
        for name in ("Open", "High", "Low", "Close", "Volume")
    ]
    return OHLCV(*columns)
