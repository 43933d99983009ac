"""The composite vote, with stub components whose signals are placed by hand."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from quantdesk.engine.signals import (
    OHLCV,
    Composite,
    Condition,
    Direction,
    RiskModel,
    SignalRun,
    Weighted,
    recent_votes,
)
from quantdesk.engine.signals.base import ParamValue
from tests.support.ohlcv import random_ohlcv


@dataclass(frozen=True)
class Stub:
    label: str
    signals: tuple[tuple[int, int], ...]  # (bar, direction)

    @property
    def name(self) -> str:
        return self.label

    def params(self) -> dict[str, ParamValue]:
        return {}

    def run(self, bars: OHLCV, risk: RiskModel = RiskModel()) -> SignalRun:
        direction = np.zeros(len(bars), dtype=np.int8)
        for bar, side in self.signals:
            direction[bar] = side
        confidence = np.where(direction != 0, 50.0, np.nan)
        nan = np.full(len(bars), np.nan)

        def explain(bar: int, side: Direction) -> tuple[Condition, ...]:
            return ()

        return SignalRun(self.label, direction, confidence, nan, nan, nan, nan, nan, nan, explain)


@pytest.fixture(scope="module")
def bars() -> OHLCV:
    return OHLCV.of(*random_ohlcv(200, seed=11))


def test_recent_votes_keep_the_latest_signal_for_the_window() -> None:
    direction = np.array([0, 1, 0, 0, -1, 0, 0, 0, 0], dtype=np.int8)
    votes, ages = recent_votes(direction, window=3)
    assert votes.tolist() == [0, 1, 1, 1, -1, -1, -1, 0, 0]
    np.testing.assert_array_equal(ages, [np.nan, 0, 1, 2, 0, 1, 2, np.nan, np.nan])


def test_composite_fires_when_a_fresh_signal_lifts_the_vote_over_the_threshold(
    bars: OHLCV,
) -> None:
    composite = Composite(
        components=(
            Weighted(Stub("a", ((100, 1),))),
            Weighted(Stub("c", ((101, -1),))),
            Weighted(Stub("b", ((102, 1),))),
        ),
        window=5,
        threshold=0.3,
    )
    run = composite.run(bars)
    # 106: c's vote lapses and the vote rises to +1/3, but no component fired there.
    assert np.flatnonzero(run.direction).tolist() == [100, 102]
    assert run.direction[100] == run.direction[102] == 1
    # 100: alone and unanimous (0.5 * 1 + 0.5 * 1/3); 102: two of three voters agree.
    assert run.agreement[100] == pytest.approx(0.5 + 0.5 / 3)
    assert run.agreement[102] == pytest.approx(0.5 * 2 / 3 + 0.5 * 2 / 3)
    signal = run.at(102)
    assert signal is not None
    vote, *agreeing = signal.rationale
    assert vote.name == "vote" and vote.value == pytest.approx(1 / 3)
    assert [c.name for c in agreeing] == ["a", "b"]
    assert agreeing[0].text.startswith("a LONG 2 bars ago")


def test_weights_decide_the_vote(bars: OHLCV) -> None:
    heavy_short = Composite(
        components=(Weighted(Stub("a", ((120, 1),)), 1.0), Weighted(Stub("b", ((119, -1),)), 3.0)),
        threshold=0.5,
    )
    run = heavy_short.run(bars)
    assert run.direction[119] == -1  # 3/4 of the weight says short
    assert run.direction[120] == 0  # a's long only lowers the vote to -1/2
    assert heavy_short.params()["components"] == "a:1,b:3"


def test_composite_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Composite(components=())
    with pytest.raises(ValueError, match="threshold"):
        Composite(threshold=1.5)
