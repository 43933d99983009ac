"""Settling a signal against later bars: a candle table (stop before target in one bar) and
expiry counted in bars, never by the clock."""

from __future__ import annotations

import numpy as np
import pytest

from quantdesk.engine.signals import Direction, Outcome, Resolution, resolve, settled_return

LIFETIME = 3  # three bars after the signal bar count


def run(
    direction: Direction,
    candles: list[tuple[float, float, float, float]],
    lifetime: int = LIFETIME,
) -> Resolution:
    o, h, lo, c = (
        (np.array(column, dtype=np.float64) for column in zip(*candles, strict=True))
        if candles
        else (np.empty(0),) * 4
    )
    # long: entry 100, target 106, stop 97; short: entry 100, target 94, stop 103
    target, stop = (106.0, 97.0) if direction is Direction.LONG else (94.0, 103.0)
    return resolve(
        direction=direction,
        target=target,
        stop=stop,
        open=o,
        high=h,
        low=lo,
        close=c,
        lifetime=lifetime,
    )


L, S = Direction.LONG, Direction.SHORT
QUIET = (100.0, 101.0, 99.0, 100.5)

CASES = {
    "long target hit": (
        L,
        [(100, 102, 99, 101), (101, 107, 100, 106)],
        Outcome.TARGET_HIT,
        1,
        106.0,
    ),
    "long stopped": (L, [(100, 101, 98, 99), (99, 100, 96, 97)], Outcome.STOPPED, 1, 97.0),
    "long both in one bar: stopped": (L, [(100, 107, 96, 104)], Outcome.STOPPED, 0, 97.0),
    "long gap below stop fills at open": (L, [(95, 96, 94, 95.5)], Outcome.STOPPED, 0, 95.0),
    "long gap above target fills at open": (
        L,
        [(108, 109, 107, 108)],
        Outcome.TARGET_HIT,
        0,
        108.0,
    ),
    "long expired at the close of its last bar": (
        L,
        [(100, 102, 99, 101), (101, 103, 100, 102), (102, 104, 101, 103), (103, 110, 90, 104)],
        Outcome.EXPIRED,
        2,
        103.0,
    ),
    "long expires on exactly its lifetime": (L, [QUIET] * 3, Outcome.EXPIRED, 2, 100.5),
    "still active one bar short of its lifetime": (L, [QUIET] * 2, Outcome.ACTIVE, None, None),
    "still active without any later bar": (L, [], Outcome.ACTIVE, None, None),
    "short target hit": (S, [(100, 101, 97, 98), (98, 99, 93, 94)], Outcome.TARGET_HIT, 1, 94.0),
    "short stopped": (S, [(100, 104, 99, 103)], Outcome.STOPPED, 0, 103.0),
    "short both in one bar: stopped": (S, [(100, 104, 93, 95)], Outcome.STOPPED, 0, 103.0),
    "short gap above stop fills at open": (S, [(105, 106, 104, 105)], Outcome.STOPPED, 0, 105.0),
    "short expired": (S, [(100, 101, 99, 100)] * 3, Outcome.EXPIRED, 2, 100.0),
}


@pytest.mark.parametrize(
    ("direction", "candles", "outcome", "bar", "price"), CASES.values(), ids=CASES.keys()
)
def test_candle_table(
    direction: Direction,
    candles: list[tuple[float, float, float, float]],
    outcome: Outcome,
    bar: int | None,
    price: float | None,
) -> None:
    resolution = run(direction, candles)
    assert resolution == Resolution(outcome, bar, price)
    assert resolution.bars_held == (None if bar is None else bar + 1)
    if outcome is not Outcome.ACTIVE:
        assert resolution.price is not None  # a settled signal always has its price


def test_the_lifetime_decides_expiry() -> None:
    candles = [QUIET] * 5
    assert run(L, candles, lifetime=5) == Resolution(Outcome.EXPIRED, 4, 100.5)
    assert run(L, candles, lifetime=6).outcome is Outcome.ACTIVE
    assert run(L, candles, lifetime=1) == Resolution(Outcome.EXPIRED, 0, 100.5)
    with pytest.raises(ValueError, match="lifetime"):
        run(L, candles, lifetime=0)


def test_settled_return_by_side() -> None:
    assert settled_return(L, 100.0, 106.0) == pytest.approx(0.06)
    assert settled_return(S, 100.0, 94.0) == pytest.approx(0.06)
    assert settled_return(S, 100.0, 103.0) == pytest.approx(-0.03)
