"""Settling a signal against later bars: a candle table (stop before target in one bar)."""

from __future__ import annotations

import numpy as np
import pytest

from quantdesk.engine.signals import Direction, Outcome, Resolution, resolve

DAY = 86_400
T0 = 1_704_153_600  # the first bar after the signal bar
EXPIRES = T0 + 3 * DAY  # three bars count


def run(
    direction: Direction, candles: list[tuple[float, float, float, float]], now: int
) -> Resolution:
    ts = T0 + DAY * np.arange(len(candles), dtype=np.int64)
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
        ts=ts,
        open=o,
        high=h,
        low=lo,
        close=c,
        expires_at=EXPIRES,
        now=now,
    )


LATE = EXPIRES + DAY
L, S = Direction.LONG, Direction.SHORT

CASES = {
    "long target hit": (
        L,
        [(100, 102, 99, 101), (101, 107, 100, 106)],
        LATE,
        Outcome.TARGET_HIT,
        1,
        106.0,
    ),
    "long stopped": (L, [(100, 101, 98, 99), (99, 100, 96, 97)], LATE, Outcome.STOPPED, 1, 97.0),
    "long both in one bar: stopped": (L, [(100, 107, 96, 104)], LATE, Outcome.STOPPED, 0, 97.0),
    "long gap below stop fills at open": (L, [(95, 96, 94, 95.5)], LATE, Outcome.STOPPED, 0, 95.0),
    "long gap above target fills at open": (
        L,
        [(108, 109, 107, 108)],
        LATE,
        Outcome.TARGET_HIT,
        0,
        108.0,
    ),
    "long expired at last counted close": (
        L,
        [(100, 102, 99, 101), (101, 103, 100, 102), (102, 104, 101, 103), (103, 110, 90, 104)],
        LATE,
        Outcome.EXPIRED,
        2,
        103.0,
    ),
    "long still active before expiry": (
        L,
        [(100, 102, 99, 101)],
        T0 + DAY,
        Outcome.ACTIVE,
        None,
        None,
    ),
    "expired without any bar": (L, [], LATE, Outcome.EXPIRED, None, None),
    "short target hit": (
        S,
        [(100, 101, 97, 98), (98, 99, 93, 94)],
        LATE,
        Outcome.TARGET_HIT,
        1,
        94.0,
    ),
    "short stopped": (S, [(100, 104, 99, 103)], LATE, Outcome.STOPPED, 0, 103.0),
    "short both in one bar: stopped": (S, [(100, 104, 93, 95)], LATE, Outcome.STOPPED, 0, 103.0),
    "short gap above stop fills at open": (
        S,
        [(105, 106, 104, 105)],
        LATE,
        Outcome.STOPPED,
        0,
        105.0,
    ),
    "short expired": (S, [(100, 101, 99, 100)] * 3, LATE, Outcome.EXPIRED, 2, 100.0),
}


@pytest.mark.parametrize(
    ("direction", "candles", "now", "outcome", "bar", "price"), CASES.values(), ids=CASES.keys()
)
def test_candle_table(
    direction: Direction,
    candles: list[tuple[float, float, float, float]],
    now: int,
    outcome: Outcome,
    bar: int | None,
    price: float | None,
) -> None:
    assert run(direction, candles, now) == Resolution(outcome, bar, price)
