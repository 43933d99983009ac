"""Argument checking of the batch functions and streaming classes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from quantdesk.engine import indicators as ind
from quantdesk.engine.indicators import streaming

X = np.linspace(1.0, 2.0, 50)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: ind.sma(X, 0), ValueError, "period must be between 1 and 100000, got 0"),
        (lambda: ind.sma(X, 100_001), ValueError, "between 1 and 100000"),
        (
            lambda: ind.ema(X, 2.5),  # type: ignore[arg-type]
            TypeError,
            "period must be an integer, got float",
        ),
        (lambda: ind.wma(X, True), TypeError, "period must be an integer, got bool"),
        (lambda: ind.rsi(X, 1), ValueError, "between 2 and 100000"),
        (lambda: ind.macd(X, 1, 26, 9), ValueError, "fast must be between 2"),
        (lambda: ind.macd(X, 12, 26, 0), ValueError, "signal must be between 1"),
        (lambda: ind.bbands(X, 5, float("nan")), ValueError, "nbdev_up must be a finite number"),
        (lambda: ind.adx(X, X, X, 1), ValueError, "between 2 and 100000"),
        (lambda: ind.stoch(X, X, X, 0), ValueError, "fastk_period must be between 1"),
        (lambda: ind.vwap(X, X, X, X, 0), ValueError, "window must be between 1"),
        (lambda: ind.rolling_volatility(X, 1), ValueError, "between 2 and 100000"),
        (
            lambda: ind.rolling_volatility(X, 5, 0.0),
            ValueError,
            "periods_per_year must be positive",
        ),
        (
            lambda: ind.sma(np.ones((3, 3)), 2),
            ValueError,
            r"close must be a 1-D array, got shape \(3, 3\)",
        ),
        (
            lambda: ind.atr(X, X[:-1], X, 3),
            ValueError,
            "same length, got high=50, low=49, close=50",
        ),
        (lambda: ind.obv(X, X[:10]), ValueError, "same length"),
        (lambda: streaming.StreamingRSI(1), ValueError, "between 2 and 100000"),
        (lambda: streaming.StreamingSMA(0), ValueError, "between 1 and 100000"),
        (lambda: streaming.StreamingVWAP(0), ValueError, "window must be between 1"),
        (lambda: streaming.StreamingVolatility(5, -1.0), ValueError, "must be positive"),
        (lambda: streaming.StreamingBBands(5, float("inf")), ValueError, "finite number"),
    ],
)
def test_invalid_arguments(call: Callable[[], Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()


def test_inputs_are_not_modified_and_lists_are_accepted() -> None:
    close = X.copy()
    ind.bbands(close, 5)
    ind.macd(close)
    np.testing.assert_array_equal(close, X)
    np.testing.assert_allclose(ind.sma(close.tolist(), 5), ind.sma(close, 5))


def test_integer_input_is_converted_to_float64() -> None:
    out = ind.sma(np.arange(10), 3)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out[2:], np.arange(1.0, 9.0))
