"""The composite strategy: a weighted vote of other strategies' recent signals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from quantdesk.engine.signals.bars import OHLCV, FloatArray, Int8Array
from quantdesk.engine.signals.base import (
    Condition,
    Direction,
    MarketContext,
    ParamValue,
    RiskModel,
    SignalRun,
    SignalStrategy,
    assemble,
)
from quantdesk.engine.signals.rules import fmt
from quantdesk.engine.signals.strategies import (
    BollingerBreakout,
    BollingerReversion,
    MacdCross,
    MaCross,
    RsiReversal,
)


@dataclass(frozen=True, slots=True)
class Weighted:
    strategy: SignalStrategy
    weight: float = 1.0


def _default_components() -> tuple[Weighted, ...]:
    return (
        Weighted(RsiReversal()),
        Weighted(MacdCross()),
        Weighted(BollingerBreakout()),
        Weighted(BollingerReversion()),
        Weighted(MaCross(20, 50, "sma")),
        Weighted(MaCross(9, 21, "ema")),
    )


def recent_votes(direction: Int8Array, window: int) -> tuple[Int8Array, FloatArray]:
    """Per bar: the direction of the latest signal within the last ``window`` bars
    (inclusive; 0 if none) and its age in bars (NaN if none)."""
    index = np.arange(direction.size)
    last = np.maximum.accumulate(np.where(direction != 0, index, -1)) if direction.size else index
    age = (index - last).astype(np.float64)
    live = (last >= 0) & (age < window)
    votes = np.where(live, direction[np.maximum(last, 0)], 0).astype(np.int8)
    return votes, np.where(live, age, np.nan)


@dataclass(frozen=True, slots=True)
class Composite:
    """Weighted vote of the components' signals of the last ``window`` bars.

    ``vote[t] = sum(w_i * v_i[t]) / sum(w_i)``, where ``v_i[t]`` is the direction (+1/-1)
    of component ``i``'s latest signal within the window, else 0. Long at ``t`` when a
    component signals long at ``t`` and the vote rises to ``threshold`` or above from below
    it (short: mirror). Agreement is half unanimity (the share of the *voting* weight,
    components with a live signal, on the signal's side) and half breadth (the share of
    *all* weight on the signal's side).
    """

    components: Sequence[Weighted] = field(default_factory=_default_components)
    window: int = 5
    threshold: float = 0.3

    def __post_init__(self) -> None:
        if not self.components:
            raise ValueError("a composite needs at least one component")
        if any(c.weight <= 0 for c in self.components):
            raise ValueError("component weights must be positive")
        if self.window < 1:
            raise ValueError("window must be at least 1 bar")
        if not 0 < self.threshold <= 1:
            raise ValueError("threshold must be in (0, 1]")

    @property
    def name(self) -> str:
        return "composite"

    def params(self) -> dict[str, ParamValue]:
        weights = ",".join(f"{c.strategy.name}:{c.weight:g}" for c in self.components)
        return {"components": weights, "window": self.window, "threshold": self.threshold}

    def run(self, bars: OHLCV, risk: RiskModel = RiskModel()) -> SignalRun:
        runs = [c.strategy.run(bars, risk) for c in self.components]
        weights = np.array([c.weight for c in self.components])[:, None]
        total = float(weights.sum())
        recent = [recent_votes(r.direction, self.window) for r in runs]
        votes = np.stack([v for v, _ in recent]) if runs else np.zeros((0, len(bars)))
        ages = [a for _, a in recent]
        fired = np.stack([r.direction for r in runs])
        score = (weights * votes).sum(axis=0) / total
        before = np.concatenate(([0.0], score[:-1]))
        long = (fired == 1).any(axis=0) & (score >= self.threshold) & (before < self.threshold)
        short = (fired == -1).any(axis=0) & (score <= -self.threshold)
        short &= before > -self.threshold
        # Half unanimity among the components with an opinion (abstaining is not dissent),
        # half breadth (the share of all weight on the signal's side).
        voting = (weights * (votes != 0)).sum(axis=0)
        agreement: dict[Direction, FloatArray] = {}
        with np.errstate(invalid="ignore", divide="ignore"):
            for side in Direction:
                agreeing = (weights * (votes == int(side))).sum(axis=0)
                agreement[side] = 0.5 * agreeing / voting + 0.5 * agreeing / total

        def explain(t: int, side: Direction) -> tuple[Condition, ...]:
            word = ">=" if side is Direction.LONG else "<="
            level = self.threshold * int(side)
            conditions = [
                Condition(
                    "vote",
                    f"weighted vote {score[t]:+.2f} {word} {level:+.2f} "
                    f"(from {before[t]:+.2f}; window {self.window} bars)",
                    float(score[t]),
                    level,
                )
            ]
            for component, run, age, vote in zip(self.components, runs, ages, votes, strict=True):
                if vote[t] != int(side):
                    continue
                source = t - int(age[t])
                when = "this bar" if age[t] == 0 else f"{int(age[t])} bars ago"
                conditions.append(
                    Condition(
                        component.strategy.name,
                        f"{component.strategy.name} {side.name} {when} "
                        f"(confidence {fmt(run.confidence[source])}, "
                        f"weight {component.weight:g})",
                        float(run.confidence[source]),
                        None,
                    )
                )
            return tuple(conditions)

        return assemble(
            self.name,
            bars,
            risk,
            MarketContext.of(bars, risk),
            long=long,
            short=short,
            agreement=agreement,
            explain=explain,
        )
