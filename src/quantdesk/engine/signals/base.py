"""Shared machinery of the signal strategies: rules, the risk model, confidence, results.

A rule-based strategy is one *trigger* rule (its event, e.g. "RSI crosses back above 30")
and a few *confirming* rules (e.g. "MACD histogram rising"). Each rule is a pair of boolean
arrays (long, short) plus a function that describes, with its values, why it held at a bar.
``run_rules`` turns them into a :class:`SignalRun`: the direction, confidence, entry,
target and stop of every bar, and on demand the rationale of any bar.

Every array here is aligned with the input bars and value ``t`` uses bars ``0..t`` only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from quantdesk.engine.indicators import atr, sma
from quantdesk.engine.signals.bars import OHLCV, BoolArray, FloatArray, Int8Array

ParamValue = int | float | str

#: Weights of the confidence formula (module docstring of ``quantdesk.engine.signals``).
AGREEMENT_WEIGHT = 0.5
STRENGTH_WEIGHT = 0.3
VOLATILITY_WEIGHT = 0.2
#: A close-to-close move of this many ATRs in the signal's direction is full strength.
FULL_STRENGTH_ATR = 2.0
#: ATR at or below this fraction of its average scores full marks for volatility; the
#: score falls linearly to 0 at one unit above it (0.5 at the average, 0 at 1.5x).
CALM_RELATIVE_ATR = 0.5


class Direction(IntEnum):
    LONG = 1
    SHORT = -1


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition that held at the signal bar, in words and numbers."""

    name: str
    text: str
    value: float
    threshold: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "text": self.text,
            "value": self.value,
            "threshold": self.threshold,
        }


Explain = Callable[[int, Direction], Condition]


@dataclass(frozen=True, slots=True, eq=False)
class Rule:
    """A condition per bar for each side; ``explain(t, direction)`` describes bar ``t``."""

    name: str
    long: BoolArray
    short: BoolArray
    explain: Explain

    def holds(self, direction: Direction) -> BoolArray:
        return self.long if direction is Direction.LONG else self.short


@dataclass(frozen=True, slots=True)
class RiskModel:
    """Levels and volatility from Wilder's ATR.

    * entry: the signal bar's close;
    * stop: ``stop_atr`` ATRs against the trade, target: ``target_atr`` ATRs with it
      (defaults 1.5 and 3.0: two units of reward per unit of risk);
    * relative volatility: ATR over its own ``volatility_period``-bar SMA.
    """

    atr_period: int = 14
    stop_atr: float = 1.5
    target_atr: float = 3.0
    volatility_period: int = 50

    def __post_init__(self) -> None:
        if self.stop_atr <= 0 or self.target_atr <= 0:
            raise ValueError("stop_atr and target_atr must be positive")

    def params(self) -> dict[str, ParamValue]:
        return {
            "atr_period": self.atr_period,
            "stop_atr": self.stop_atr,
            "target_atr": self.target_atr,
            "volatility_period": self.volatility_period,
        }


@dataclass(frozen=True, slots=True, eq=False)
class MarketContext:
    """What every strategy shares: ATR, the bar's move in ATRs, the volatility score."""

    atr: FloatArray
    move: FloatArray  # (close[t] - close[t-1]) / ATR[t]; NaN at bar 0 and in warm-up
    volatility_score: FloatArray  # clip(1.5 - ATR / SMA(ATR), 0, 1); NaN in warm-up

    @classmethod
    def of(cls, bars: OHLCV, risk: RiskModel) -> MarketContext:
        average_range = atr(bars.high, bars.low, bars.close, risk.atr_period)
        with np.errstate(invalid="ignore", divide="ignore"):
            move = np.full(len(bars), np.nan)
            move[1:] = np.diff(bars.close) / average_range[1:]
            relative = average_range / sma(average_range, risk.volatility_period)
            score = np.clip(CALM_RELATIVE_ATR + 1.0 - relative, 0.0, 1.0)
        return cls(average_range, move, score)

    def strength(self, direction: Direction) -> FloatArray:
        """The signal bar's close-to-close move in its direction as a fraction of
        ``FULL_STRENGTH_ATR`` ATRs, clipped to 0..1 (a move against the signal is 0)."""
        return np.clip(self.move * int(direction) / FULL_STRENGTH_ATR, 0.0, 1.0)


def confidence(
    agreement: FloatArray | float, strength: FloatArray | float, volatility: FloatArray | float
) -> FloatArray:
    """``100 * (0.5 * agreement + 0.3 * strength + 0.2 * volatility)``, one decimal."""
    raw = 100.0 * (
        AGREEMENT_WEIGHT * np.asarray(agreement, dtype=np.float64)
        + STRENGTH_WEIGHT * np.asarray(strength, dtype=np.float64)
        + VOLATILITY_WEIGHT * np.asarray(volatility, dtype=np.float64)
    )
    return np.asarray(np.round(np.clip(raw, 0.0, 100.0), 1), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class SignalResult:
    """The signal of one bar, ready to be stored."""

    strategy: str
    bar: int
    direction: Direction
    entry: float
    target: float
    stop: float
    confidence: float
    agreement: float
    strength: float
    volatility: float
    rationale: tuple[Condition, ...]


@dataclass(frozen=True, slots=True, eq=False)
class SignalRun:
    """A strategy's output for every bar (NaN / 0 where it did not signal)."""

    strategy: str
    direction: Int8Array  # +1 long, -1 short, 0 none
    confidence: FloatArray
    agreement: FloatArray
    strength: FloatArray
    volatility: FloatArray
    entry: FloatArray
    target: FloatArray
    stop: FloatArray
    explain: Callable[[int, Direction], tuple[Condition, ...]] = field(repr=False)

    def __len__(self) -> int:
        return int(self.direction.size)

    def signal_bars(self) -> npt.NDArray[np.intp]:
        return np.flatnonzero(self.direction)

    def rationale(self, bar: int) -> tuple[Condition, ...]:
        side = int(self.direction[bar])
        return self.explain(bar, Direction(side)) if side else ()

    def at(self, bar: int) -> SignalResult | None:
        """The signal of bar ``bar`` (negative counts from the end), or None."""
        index = range(len(self))[bar]
        side = int(self.direction[index])
        if side == 0:
            return None
        return SignalResult(
            strategy=self.strategy,
            bar=index,
            direction=Direction(side),
            entry=float(self.entry[index]),
            target=float(self.target[index]),
            stop=float(self.stop[index]),
            confidence=float(self.confidence[index]),
            agreement=float(self.agreement[index]),
            strength=float(self.strength[index]),
            volatility=float(self.volatility[index]),
            rationale=self.explain(index, Direction(side)),
        )

    def latest(self) -> SignalResult | None:
        """The signal of the last bar, if it has one: what a live job publishes."""
        return self.at(-1) if len(self) else None


class SignalStrategy(Protocol):
    """A strategy spec: parameters in a frozen dataclass, ``run`` computes every bar."""

    @property
    def name(self) -> str: ...

    def params(self) -> dict[str, ParamValue]: ...

    def run(self, bars: OHLCV, risk: RiskModel = ...) -> SignalRun: ...


def assemble(
    name: str,
    bars: OHLCV,
    risk: RiskModel,
    context: MarketContext,
    *,
    long: BoolArray,
    short: BoolArray,
    agreement: Mapping[Direction, FloatArray],
    explain: Callable[[int, Direction], tuple[Condition, ...]],
) -> SignalRun:
    """Direction, levels and confidence from per-side triggers and agreement.

    A bar signals only where ATR and the volatility score exist (after their warm-up) and
    exactly one side triggers.
    """
    ready = np.isfinite(context.atr) & np.isfinite(context.volatility_score)
    ready &= np.isfinite(context.move)
    go_long = long & ~short & ready
    go_short = short & ~long & ready
    direction = np.zeros(len(bars), dtype=np.int8)
    direction[go_long] = 1
    direction[go_short] = -1

    nan = np.full(len(bars), np.nan)
    agree, strength = nan.copy(), nan.copy()
    for side, mask in ((Direction.LONG, go_long), (Direction.SHORT, go_short)):
        agree[mask] = agreement[side][mask]
        strength[mask] = context.strength(side)[mask]
    volatility = np.where(direction != 0, context.volatility_score, np.nan)
    entry = np.where(direction != 0, bars.close, np.nan)
    stop = entry - direction * risk.stop_atr * context.atr
    target = entry + direction * risk.target_atr * context.atr
    return SignalRun(
        strategy=name,
        direction=direction,
        confidence=confidence(agree, strength, volatility),
        agreement=agree,
        strength=strength,
        volatility=volatility,
        entry=entry,
        target=target,
        stop=stop,
        explain=explain,
    )


def run_rules(
    name: str,
    bars: OHLCV,
    risk: RiskModel,
    trigger: Rule,
    confirmations: Sequence[Rule],
) -> SignalRun:
    """A trigger plus confirmations: agreement = (1 + confirmations held) / (1 + count)."""
    context = MarketContext.of(bars, risk)
    total = 1 + len(confirmations)
    agreement: dict[Direction, FloatArray] = {}
    for side in Direction:
        held = np.ones(len(bars))  # the trigger itself agrees
        for rule in confirmations:
            held += rule.holds(side)
        agreement[side] = held / total

    def explain(bar: int, side: Direction) -> tuple[Condition, ...]:
        held = [rule.explain(bar, side) for rule in confirmations if rule.holds(side)[bar]]
        return (trigger.explain(bar, side), *held)

    return assemble(
        name,
        bars,
        risk,
        context,
        long=trigger.long,
        short=trigger.short,
        agreement=agreement,
        explain=explain,
    )
