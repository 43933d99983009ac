"""Rule builders the strategies share: crossings, comparisons, candle colour, volume.

Crossings follow backtesting.py's ``crossover`` (strict on both bars): ``a`` crosses above
``b`` at ``t`` when ``a[t-1] < b[t-1]`` and ``a[t] > b[t]``. NaN (indicator warm-up)
compares false, so no rule holds before its indicators exist.
"""

from __future__ import annotations

import numpy as np

from quantdesk.engine.signals.bars import OHLCV, BoolArray, FloatArray
from quantdesk.engine.signals.base import Condition, Direction, Rule


def fmt(value: float) -> str:
    """Six significant digits: 512.34, 1.12345, 0.00123457."""
    return f"{value:.6g}"


def _level(values: FloatArray | float, size: int) -> FloatArray:
    return np.broadcast_to(np.asarray(values, dtype=np.float64), (size,))


def crossed_above(a: FloatArray, b: FloatArray | float) -> BoolArray:
    b_values = _level(b, a.size)
    out = np.zeros(a.size, dtype=np.bool_)
    out[1:] = (a[:-1] < b_values[:-1]) & (a[1:] > b_values[1:])
    return out


def crossed_below(a: FloatArray, b: FloatArray | float) -> BoolArray:
    b_values = _level(b, a.size)
    out = np.zeros(a.size, dtype=np.bool_)
    out[1:] = (a[:-1] > b_values[:-1]) & (a[1:] < b_values[1:])
    return out


def cross_rule(
    name: str,
    label: str,
    a: FloatArray,
    long_level: FloatArray | float,
    short_level: FloatArray | float,
    *,
    long_level_label: str,
    short_level_label: str,
) -> Rule:
    """Long when ``a`` crosses above ``long_level``, short when below ``short_level``."""
    up = _level(long_level, a.size)
    down = _level(short_level, a.size)
    moving = np.ndim(long_level) > 0 or np.ndim(short_level) > 0

    def explain(t: int, side: Direction) -> Condition:
        level, word, level_label = (
            (up, "above", long_level_label)
            if side is Direction.LONG
            else (down, "below", short_level_label)
        )
        text = f"{label} crossed {word} {level_label}: {fmt(a[t - 1])} -> {fmt(a[t])}"
        if moving:
            text += f" (vs {fmt(level[t - 1])} -> {fmt(level[t])})"
        return Condition(name, text, float(a[t]), float(level[t]))

    return Rule(name, crossed_above(a, up), crossed_below(a, down), explain)


def compare_rule(
    name: str,
    label: str,
    a: FloatArray,
    b_label: str,
    b: FloatArray | float,
    *,
    inverted: bool = False,
) -> Rule:
    """Long when ``a > b``, short when ``a < b`` (trend and momentum side); ``inverted``
    swaps the sides (mean reversion: long while price is still below its mean)."""
    level = _level(b, a.size)
    above, below = a > level, a < level

    def explain(t: int, side: Direction) -> Condition:
        word = "above" if (side is Direction.LONG) != inverted else "below"
        return Condition(
            name,
            f"{label} {fmt(a[t])} {word} {b_label} {fmt(level[t])}",
            float(a[t]),
            float(level[t]),
        )

    return Rule(name, below, above, explain) if inverted else Rule(name, above, below, explain)


def zone_rule(
    name: str, label: str, a: FloatArray, *, long_below: float, short_above: float
) -> Rule:
    """Long while ``a`` is below ``long_below``, short while above ``short_above``."""

    def explain(t: int, side: Direction) -> Condition:
        level, word = (long_below, "below") if side is Direction.LONG else (short_above, "above")
        return Condition(name, f"{label} {fmt(a[t])} {word} {fmt(level)}", float(a[t]), level)

    return Rule(name, a < long_below, a > short_above, explain)


def turning_rule(name: str, label: str, a: FloatArray) -> Rule:
    """Long when ``a`` rose on the bar, short when it fell."""
    rising = np.zeros(a.size, dtype=np.bool_)
    falling = np.zeros(a.size, dtype=np.bool_)
    rising[1:] = a[1:] > a[:-1]
    falling[1:] = a[1:] < a[:-1]

    def explain(t: int, side: Direction) -> Condition:
        word = "rising" if side is Direction.LONG else "falling"
        return Condition(
            name, f"{label} {word}: {fmt(a[t - 1])} -> {fmt(a[t])}", float(a[t]), float(a[t - 1])
        )

    return Rule(name, rising, falling, explain)


def candle_rule(bars: OHLCV) -> Rule:
    """Long on a bullish candle (close above open), short on a bearish one."""

    def explain(t: int, side: Direction) -> Condition:
        word = "bullish" if side is Direction.LONG else "bearish"
        return Condition(
            "candle",
            f"{word} candle: open {fmt(bars.open[t])}, close {fmt(bars.close[t])}",
            float(bars.close[t]),
            float(bars.open[t]),
        )

    return Rule("candle", bars.close > bars.open, bars.close < bars.open, explain)


def volume_rule(bars: OHLCV, average: FloatArray, period: int) -> Rule:
    """Either side: volume above its ``period``-bar average (participation)."""
    above = bars.volume > average

    def explain(t: int, side: Direction) -> Condition:
        return Condition(
            "volume",
            f"volume {fmt(bars.volume[t])} above its {period}-bar average {fmt(average[t])}",
            float(bars.volume[t]),
            float(average[t]),
        )

    return Rule("volume", above, above, explain)
