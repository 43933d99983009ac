"""The fixed-size SMA crossover as references: backtesting.py's own run, and the same
signal computed bar by bar the way a trading client sees it.

``run_fixed_size_crossover`` runs backtesting.py 0.6 (``Backtest(..., margin=1, spread=0,
trade_on_close=False, hedging=False, exclusive_orders=False, finalize_trades=False)``)
with this strategy, evaluated at the close of every bar ``t`` from ``1 + warm-up`` on::

    if crossover(sma_fast, sma_slow) and not position: buy(size=size)
    elif crossover(sma_slow, sma_fast): position.close()

What backtesting.py then does, and what a replica has to do to agree:

* ``crossover(a, b)`` at bar ``t`` is ``a[t-1] < b[t-1] and a[t] > b[t]`` (strict; a NaN
  SMA never crosses), SMAs being ``pd.Series(close).rolling(n).mean()``.
* Both orders are market orders filled at the **open of bar t + 1**; a signal on the last
  bar is never filled.
* The entry is **canceled** (a ``UserWarning``, never shrunk, never retried) when
  ``size * (open + size * open * commission / size) > cash``; the position stays flat
  until the next cross up. Entry and exit each pay ``size * price * commission``.
* A trade still open after the last bar stays open (not among the closed trades) and is
  marked to the last close in the final equity.

``crossover_signal`` is the client side: from the closes up to and including bar ``t``,
the two SMAs at ``t`` and whether a cross up or down happened at ``t``, with exactly
backtesting.py's arithmetic (so it agrees on every bar, ties included).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover

_CANCELED = re.compile(r"time=(\d+): Broker canceled the order")


@dataclass(frozen=True, slots=True)
class ReferenceTrade:
    """One backtesting.py trade. Bars are positions in the input frame, times its index
    labels (bar times). ``exit_*`` are None for the trade still open at the end.
    ``commission`` is both sides (entry only while open); ``pnl`` is net of it, marked to
    the last close while open."""

    size: int
    entry_bar: int
    entry_time: pd.Timestamp
    entry_price: float
    exit_bar: int | None
    exit_time: pd.Timestamp | None
    exit_price: float | None
    commission: float
    pnl: float


@dataclass(frozen=True, slots=True)
class ReferenceResult:
    """``trades``: closed trades in order; ``open_trade``: the one still open after the
    last bar, if any; ``final_equity``: cash plus the open trade marked to the last close
    (``Equity Final [$]``); ``canceled_bars``: bars whose entry the broker canceled for
    insufficient cash (the bar the fill would have happened on)."""

    trades: tuple[ReferenceTrade, ...]
    open_trade: ReferenceTrade | None
    final_equity: float
    canceled_bars: tuple[int, ...]


def _sma(values: npt.ArrayLike, n: int) -> npt.NDArray[np.float64]:
    # backtesting.test.SMA, verbatim.
    return np.asarray(pd.Series(values).rolling(n).mean(), dtype=np.float64)


class _FixedSizeSmaCross(Strategy):  # type: ignore[misc]
    fast = 10
    slow = 20
    size = 100

    def init(self) -> None:
        self.sma_fast = self.I(_sma, self.data.Close, self.fast)
        self.sma_slow = self.I(_sma, self.data.Close, self.slow)

    def next(self) -> None:
        if crossover(self.sma_fast, self.sma_slow):
            if not self.position:
                self.buy(size=self.size)
        elif crossover(self.sma_slow, self.sma_fast):
            self.position.close()


def run_fixed_size_crossover(
    data: pd.DataFrame,
    *,
    fast: int = 10,
    slow: int = 20,
    size: int = 100,
    cash: float = 100_000.0,
    commission: float = 0.0,
) -> ReferenceResult:
    """backtesting.py's long-only SMA(``fast``)/SMA(``slow``) crossover trading a fixed
    ``size`` units on ``data`` (columns Open, High, Low, Close[, Volume]; a
    DatetimeIndex of bar times), next-open fills, ``commission`` a fraction of notional
    per side."""
    backtest = Backtest(
        data,
        _FixedSizeSmaCross,
        cash=cash,
        commission=commission,
        margin=1.0,
        trade_on_close=False,
        hedging=False,
        exclusive_orders=False,
        finalize_trades=False,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = backtest.run(fast=fast, slow=slow, size=size)
    canceled = tuple(
        int(match.group(1))
        for warning in caught
        if (match := _CANCELED.search(str(warning.message))) is not None
    )
    strategy = stats["_strategy"]
    index = data.index
    closed = tuple(
        ReferenceTrade(
            size=int(trade.size),
            entry_bar=int(trade.entry_bar),
            entry_time=pd.Timestamp(index[trade.entry_bar]),
            entry_price=float(trade.entry_price),
            exit_bar=int(trade.exit_bar),
            exit_time=pd.Timestamp(index[trade.exit_bar]),
            exit_price=float(trade.exit_price),
            commission=float(trade._commissions),
            pnl=float(trade.pl),
        )
        for trade in strategy.closed_trades
    )
    still_open = [
        ReferenceTrade(
            size=int(trade.size),
            entry_bar=int(trade.entry_bar),
            entry_time=pd.Timestamp(index[trade.entry_bar]),
            entry_price=float(trade.entry_price),
            exit_bar=None,
            exit_time=None,
            exit_price=None,
            commission=float(trade.size * trade.entry_price * commission),
            pnl=float(
                trade.size * (data.Close.iloc[-1] - trade.entry_price)
                - trade.size * trade.entry_price * commission
            ),
        )
        for trade in strategy.trades
    ]
    assert len(still_open) <= 1, "the strategy holds one trade at a time"
    return ReferenceResult(
        trades=closed,
        open_trade=still_open[0] if still_open else None,
        final_equity=float(stats["Equity Final [$]"]),
        canceled_bars=canceled,
    )


@dataclass(frozen=True, slots=True)
class CrossoverSignal:
    """The crossover at one bar: both SMAs at that bar (NaN while warming up) and whether
    the fast one crossed above (``cross_up``) or below (``cross_down``) the slow one at
    it, compared with the previous bar."""

    fast: float
    slow: float
    cross_up: bool
    cross_down: bool


def crossover_signal(
    closes: Sequence[float] | npt.NDArray[np.float64], fast: int = 10, slow: int = 20
) -> CrossoverSignal:
    """The signal at the last of ``closes`` (every close up to and including bar ``t``,
    oldest first), as backtesting.py computes it at bar ``t``. A long-only fixed-size
    client buys ``size`` when ``cross_up`` and it is flat, sells everything when
    ``cross_down``, both as market orders (filled at bar ``t + 1``'s open). Recomputes
    the rolling means over the whole prefix - the only way to get pandas' exact values
    - which costs about 0.1 ms per call on a few thousand closes."""
    values = np.asarray(closes, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError("closes must be a non-empty 1-D sequence")
    fast_sma = _sma(values, fast)[-2:]
    slow_sma = _sma(values, slow)[-2:]
    up = down = False
    if values.size >= 2:
        up = bool(fast_sma[0] < slow_sma[0] and fast_sma[1] > slow_sma[1])
        down = bool(slow_sma[0] < fast_sma[0] and slow_sma[1] > fast_sma[1])
    return CrossoverSignal(
        fast=float(fast_sma[-1]), slow=float(slow_sma[-1]), cross_up=up, cross_down=down
    )


def goog_frame() -> pd.DataFrame:
    """The demo GOOG daily series (backtesting.py's bundled ``GOOG.csv``) as backtesting.py
    reads it: Open/High/Low/Close/Volume on a DatetimeIndex."""
    from backtesting.test import GOOG

    frame: pd.DataFrame = GOOG.copy()
    return frame


__all__ = [
    "CrossoverSignal",
    "ReferenceResult",
    "ReferenceTrade",
    "crossover_signal",
    "goog_frame",
    "run_fixed_size_crossover",
]
