"""Trading-signal strategies: OHLCV arrays in, per-bar signals out. Pure: no I/O, no state.

Contract
--------
* Input: :class:`OHLCV` (float64 columns, oldest bar first). Output: a :class:`SignalRun`
  holding, for every bar ``t``, ``direction`` (+1 long, -1 short, 0 none), ``entry``,
  ``target``, ``stop``, ``confidence`` and its three parts; ``run.at(t)`` adds the
  rationale. Every value at ``t`` is a function of bars ``0..t`` only: it is known at bar
  ``t``'s close and never changes when later bars arrive (the tests truncate the series
  and compare).
* A signal is an *event*: the bar where the strategy's trigger fires, not every bar a
  condition holds. Nothing signals before the indicators (and ATR, and its 50-bar average)
  have values.
* Levels (:class:`RiskModel`): entry = the signal bar's close; stop = entry -/+ 1.5 ATR(14);
  target = entry +/- 3 ATR(14) (long/short).

Strategies (``STRATEGIES``; triggers, then the confirmations counted in agreement)
-------------------------------------------------------------------------------------
* ``rsi_reversal``: RSI(14) crosses back above 30 (long) / below 70 (short). Confirm:
  close on the reverting side of its 20-bar mean; candle of the signal's colour; MACD
  histogram turning the signal's way.
* ``macd_cross``: MACD(12,26,9) crosses its signal line. Confirm: close on the trend side
  of SMA(50); RSI(14) on the signal's side of 50; volume above its 20-bar average.
* ``bb_breakout``: close crosses out of BB(20,2). Confirm: as ``macd_cross``.
* ``bb_reversion``: close re-enters BB(20,2) after closing outside. Confirm: RSI(14)
  below 40 (long) / above 60 (short); candle colour; MACD histogram turning.
* ``sma_cross`` (SMA 20/50) and ``ema_cross`` (EMA 9/21): fast average crosses the slow
  one. Confirm: MACD histogram on the signal's side of 0; RSI(14) side of 50; volume.
* ``composite``: weighted vote of the six above over their last 5 bars of signals; fires
  when a component signals and the vote reaches +/-0.3 (``Composite``).

Crossings are strict on both bars (backtesting.py's ``crossover``).

Confidence (0-100)
------------------
``confidence = 100 * (0.5 * agreement + 0.3 * strength + 0.2 * volatility)``, one decimal:

* agreement (0..1), how many indicators agree: ``(1 + confirmations held) / (1 + number
  of confirmations)`` - the trigger counts as one agreeing indicator, so a bare trigger
  with three confirmations scores 0.25. The composite uses half unanimity (share of the
  voting weight on the signal's side) plus half breadth (share of all weight).
* strength (0..1), the strength of the move: the signal bar's close-to-close change in
  the signal's direction, in units of 2 ATR(14), clipped (a 2-ATR move is full strength,
  a move against the signal 0).
* volatility (0..1), calm markets are trusted more: ``clip(1.5 - ATR(14) / SMA(ATR(14),
  50), 0, 1)`` - 1 when ATR is at most half its 50-bar average, 0.5 at the average, 0 at
  1.5 times it.

Lifecycle: :func:`resolve` (``lifecycle``) settles a signal against the ``lifetime`` bars
after it (market time: a signal whose bars have not advanced stays active).
"""

from quantdesk.engine.signals.bars import OHLCV
from quantdesk.engine.signals.base import (
    AGREEMENT_WEIGHT,
    STRENGTH_WEIGHT,
    VOLATILITY_WEIGHT,
    Condition,
    Direction,
    MarketContext,
    RiskModel,
    Rule,
    SignalResult,
    SignalRun,
    SignalStrategy,
    confidence,
)
from quantdesk.engine.signals.composite import Composite, Weighted, recent_votes
from quantdesk.engine.signals.lifecycle import Outcome, Resolution, resolve, settled_return
from quantdesk.engine.signals.registry import STRATEGIES, get_strategy
from quantdesk.engine.signals.strategies import (
    BollingerBreakout,
    BollingerReversion,
    MacdCross,
    MaCross,
    RsiReversal,
)

__all__ = [
    "AGREEMENT_WEIGHT",
    "OHLCV",
    "STRATEGIES",
    "STRENGTH_WEIGHT",
    "VOLATILITY_WEIGHT",
    "BollingerBreakout",
    "BollingerReversion",
    "Composite",
    "Condition",
    "Direction",
    "MaCross",
    "MacdCross",
    "MarketContext",
    "Outcome",
    "Resolution",
    "RiskModel",
    "RsiReversal",
    "Rule",
    "SignalResult",
    "SignalRun",
    "SignalStrategy",
    "Weighted",
    "confidence",
    "get_strategy",
    "recent_votes",
    "resolve",
    "settled_return",
]
