"""Time the batch indicators against TA-Lib on 1,000,000 bars.

Run: ``.venv/bin/python benchmarks/bench_indicators.py``. Each timing is the best of
several runs (milliseconds); ratio = quantdesk / reference. VWAP and rolling
volatility have no TA-Lib function, so pandas is the reference for them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import talib

from quantdesk.engine import indicators as ind

BARS = 1_000_000
REPEATS = 5

Run = Callable[[], Any]


class Case(NamedTuple):
    name: str
    ours: Run
    reference: Run
    reference_name: str = "talib"


def best_ms(run: Run, repeats: int = REPEATS) -> float:
    run()  # warm-up: first-touch page faults and lazy imports are not the indicator
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def make_bars(size: int, seed: int = 1) -> tuple[np.ndarray[Any, Any], ...]:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, size)))
    open_ = close * np.exp(rng.normal(0.0, 0.005, size))
    high = np.maximum(open_, close) * (1.0 + rng.uniform(0.0, 0.01, size))
    low = np.minimum(open_, close) * (1.0 - rng.uniform(0.0, 0.01, size))
    volume = rng.integers(1, 1_000_000, size).astype(np.float64)
    return open_, high, low, close, volume


def cases(size: int) -> list[Case]:
    _, h, lo, c, v = make_bars(size)
    frame = pd.DataFrame({"high": h, "low": lo, "close": c, "volume": v})

    def pandas_vwap() -> Any:
        weighted = (frame.high + frame.low + frame.close) / 3 * frame.volume
        return weighted.rolling(20).sum() / frame.volume.rolling(20).sum()

    def pandas_volatility() -> Any:
        return pd.Series(np.log(c)).diff().rolling(20).std() * math.sqrt(252)

    return [
        Case("sma(30)", lambda: ind.sma(c, 30), lambda: talib.SMA(c, 30)),
        Case("ema(30)", lambda: ind.ema(c, 30), lambda: talib.EMA(c, 30)),
        Case("wma(30)", lambda: ind.wma(c, 30), lambda: talib.WMA(c, 30)),
        Case("rsi(14)", lambda: ind.rsi(c, 14), lambda: talib.RSI(c, 14)),
        Case("macd(12,26,9)", lambda: ind.macd(c), lambda: talib.MACD(c)),
        Case("bbands(20,2)", lambda: ind.bbands(c, 20, 2.0, 2.0), lambda: talib.BBANDS(c, 20)),
        Case("atr(14)", lambda: ind.atr(h, lo, c, 14), lambda: talib.ATR(h, lo, c, 14)),
        Case("stoch(5,3,3)", lambda: ind.stoch(h, lo, c), lambda: talib.STOCH(h, lo, c)),
        Case(
            "adx(14)+di",
            lambda: ind.adx(h, lo, c, 14),
            lambda: (
                talib.ADX(h, lo, c, 14),
                talib.PLUS_DI(h, lo, c, 14),
                talib.MINUS_DI(h, lo, c, 14),
            ),
        ),
        Case("obv", lambda: ind.obv(c, v), lambda: talib.OBV(c, v)),
        Case("roc(10)", lambda: ind.roc(c, 10), lambda: talib.ROC(c, 10)),
        Case("cci(14)", lambda: ind.cci(h, lo, c, 14), lambda: talib.CCI(h, lo, c, 14)),
        Case("willr(14)", lambda: ind.willr(h, lo, c, 14), lambda: talib.WILLR(h, lo, c, 14)),
        Case("vwap(20)", lambda: ind.vwap(h, lo, c, v, 20), pandas_vwap, "pandas"),
        Case("volatility(20)", lambda: ind.rolling_volatility(c, 20), pandas_volatility, "pandas"),
    ]


def main() -> None:
    print(f"{BARS:,} bars, best of {REPEATS} runs")
    print(f"{'indicator':<16}{'quantdesk ms':>14}{'reference ms':>14}  {'ref':<7}{'ratio':>7}")
    for case in cases(BARS):
        ours = best_ms(case.ours)
        reference = best_ms(case.reference)
        print(
            f"{case.name:<16}{ours:>14.2f}{reference:>14.2f}  "
            f"{case.reference_name:<7}{ours / reference:>7.2f}"
        )


if __name__ == "__main__":
    main()
