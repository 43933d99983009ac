"""The one set of backtest defaults and bounds.

`quantdesk backtest`, `POST /api/v1/backtests` (and `/sweep`) and `GET /api/v1/backtest/example`
all fill what a request leaves out from here (through the request schema), so the same question
gets the same answer on every path. docs/backtests.md lists them.
"""

from __future__ import annotations

from typing import Final, Literal

from quantdesk.kit.timeframes import Timeframe

STRATEGY: Final = "sma_cross"
TIMEFRAME: Final = Timeframe.D1
CASH: Final = 10_000.0
#: 0.2 % of notional per side: a run is never free unless asked to be.
COMMISSION: Final = 0.002
SLIPPAGE_BPS: Final = 0.0
FILL: Final[Literal["next_open", "close"]] = "next_open"
SIZING: Final[Literal["all_in"]] = "all_in"
#: Long-only: a sell signal goes flat; shorting is opted into.
ALLOW_SHORT: Final = False
# start / end: None, every stored bar. periods_per_year: None, from the timeframe and the
# instrument's asset class (compute.default_periods_per_year).

# Bounds (the engine runs at every value inside them; tests hold it to that).
MAX_CASH: Final = 1e12
MAX_COMMISSION: Final = 0.1  # exclusive
MAX_SLIPPAGE_BPS: Final = 1_000.0  # exclusive: the engine refuses a 10 % move per fill
MAX_TAKE_PROFIT_PCT: Final = 100_000.0
#: Fixed-size entries (`"sizing": {"size": n}`): a satoshi up to a trillion units.
MIN_FIXED_SIZE: Final = 1e-8
MAX_FIXED_SIZE: Final = 1e12
MAX_HOLD_BARS: Final = 10_000_000
MIN_PERIODS_PER_YEAR: Final = 1.0
#: Bars of one second, all year round: the finest annualization that means anything.
MAX_PERIODS_PER_YEAR: Final = 365.0 * 86_400.0
#: Symbols one sweep may cover (`symbols`); the cells (symbols x pairs) are bounded too
#: (QUANTDESK_BACKTEST_MAX_SWEEP_CELLS).
MAX_SWEEP_SYMBOLS: Final = 50
