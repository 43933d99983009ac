"""The compiled-kernel plumbing: numba settings, the fused multiply-add, input layouts,
threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np
import pytest

from quantdesk.engine import indicators as ind
from quantdesk.engine.indicators import _jit_averages, _jit_oscillators
from quantdesk.engine.indicators._jit import fma, jit
from tests.support.ohlcv import OHLCV

KERNELS = [
    getattr(module, name)
    for module in (_jit_averages, _jit_oscillators)
    for name in dir(module)
    if name.endswith("_kernel")
]


def test_every_kernel_is_cached_nogil_and_exact() -> None:
    assert len(KERNELS) == 13
    for kernel in KERNELS:
        assert isinstance(kernel, numba.core.registry.CPUDispatcher), kernel
        assert kernel.targetoptions["nogil"] is True
        assert kernel.targetoptions["fastmath"] is False
        assert type(kernel._cache).__name__ == "FunctionCache"  # type: ignore[attr-defined]


@jit
def _fused(a: float, b: float, c: float) -> float:
    return fma(a, b, c)


def test_fma_rounds_once() -> None:
    # 0.1 is 0.1000000000000000055511151231257827...: the exact product 10 * 0.1 exceeds
    # 1 by 2**-54, which a separately rounded product would lose.
    assert 0.1 * 10.0 - 1.0 == 0.0
    assert _fused(0.1, 10.0, -1.0) == 2.0**-54
    assert _fused(3, 4, 5) == 17.0  # integer operands are converted


def test_strided_and_integer_inputs_give_the_same_values(datasets: dict[str, OHLCV]) -> None:
    data = datasets["random"]
    strided = data.close[::2]
    assert not strided.flags.c_contiguous
    np.testing.assert_array_equal(ind.ema(strided, 10), ind.ema(strided.copy(), 10))
    np.testing.assert_array_equal(
        ind.atr(data.high[::3], data.low[::3], data.close[::3], 5),
        ind.atr(data.high[::3].copy(), data.low[::3].copy(), data.close[::3].copy(), 5),
    )
    np.testing.assert_array_equal(ind.rsi(np.arange(50), 5), ind.rsi(np.arange(50.0), 5))


def test_read_only_inputs_are_accepted(datasets: dict[str, OHLCV]) -> None:
    close = datasets["goog"].close.copy()
    expected = ind.bbands(close, 20)
    close.flags.writeable = False
    for got, want in zip(ind.bbands(close, 20), expected, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "call",
    [
        lambda d: ind.sma(d.close, 5),
        lambda d: ind.macd(d.close),
        lambda d: ind.stoch(d.high, d.low, d.close),
        lambda d: ind.adx(d.high, d.low, d.close, 14),
    ],
)
def test_all_nan_and_empty_inputs(call: Any) -> None:
    for size in (0, 40):
        nan = np.full(size, np.nan)
        for output in np.atleast_2d(np.asarray(call(OHLCV(nan, nan, nan, nan, nan)))):
            assert output.shape == (size,)
            assert np.isnan(output).all()


def test_kernels_run_in_parallel_threads(datasets: dict[str, OHLCV]) -> None:
    """The kernels release the GIL (nogil=True); concurrent calls stay correct."""
    close = np.tile(datasets["random"].close, 20)
    expected = ind.rsi(close, 14)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: ind.rsi(close, 14), range(8)))
    for result in results:
        np.testing.assert_array_equal(result, expected)
