"""The rule-based strategies: RSI reversal, MACD crossover, Bollinger breakout and mean
reversion, SMA/EMA crossover. Each is a frozen dataclass of parameters whose ``run`` is a
pure function of the bars (``quantdesk.engine.signals`` documents triggers and confidence).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from quantdesk.engine.indicators import bbands, ema, macd, rsi, sma
from quantdesk.engine.signals.bars import OHLCV, FloatArray
from quantdesk.engine.signals.base import ParamValue, RiskModel, Rule, SignalRun, run_rules
from quantdesk.engine.signals.rules import (
    candle_rule,
    compare_rule,
    cross_rule,
    turning_rule,
    volume_rule,
    zone_rule,
)

TREND_PERIOD = 50  # "close above its 50-bar SMA": the trend confirmation
VOLUME_PERIOD = 20  # "volume above its 20-bar average": the participation confirmation
RSI_PERIOD = 14


def _check_periods(**periods: int) -> None:
    for name, value in periods.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 2:
            raise ValueError(f"{name} must be an integer of at least 2, got {value!r}")


@dataclass(frozen=True, slots=True)
class RsiReversal:
    """RSI leaves an extreme: long when RSI crosses back above ``oversold``, short when it
    crosses back below ``overbought``. Confirmations: close on the reverting side of the
    Bollinger middle (room to revert), a candle of the signal's colour, MACD histogram
    turning the signal's way."""

    period: int = RSI_PERIOD
    oversold: float = 30.0
    overbought: float = 70.0

    def __post_init__(self) -> None:
        _check_periods(period=self.period)
        if not 0 < self.oversold < self.overbought < 100:
            raise ValueError("need 0 < oversold < overbought < 100")

    @property
    def name(self) -> str:
        return "rsi_reversal"

    def params(self) -> dict[str, ParamValue]:
        return {"period": self.period, "oversold": self.oversold, "overbought": self.overbought}

    def run(self, bars: OHLCV, risk: RiskModel = RiskModel()) -> SignalRun:
        strength = rsi(bars.close, self.period)
        label = f"RSI({self.period})"
        trigger = cross_rule(
            "rsi_cross",
            label,
            strength,
            self.oversold,
            self.overbought,
            long_level_label=f"oversold {self.oversold:g}",
            short_level_label=f"overbought {self.overbought:g}",
        )
        middle = bbands(bars.close, 20, 2.0, 2.0).middle
        hist = macd(bars.close).hist
        confirmations = [
            # Reverting side: for a long, close still below its mean (short: above).
            compare_rule(
                "reverting_side", "close", bars.close, "its 20-bar mean", middle, inverted=True
            ),
            candle_rule(bars),
            turning_rule("macd_turn", "MACD(12,26,9) histogram", hist),
        ]
        return run_rules(self.name, bars, risk, trigger, confirmations)


@dataclass(frozen=True, slots=True)
class MacdCross:
    """MACD line crosses its signal line: above for long, below for short. Confirmations:
    close on the trend side of its 50-bar SMA, RSI(14) on the signal's side of 50, volume
    above its 20-bar average."""

    fast: int = 12
    slow: int = 26
    signal: int = 9

    def __post_init__(self) -> None:
        _check_periods(fast=self.fast, slow=self.slow, signal=self.signal)
        if self.fast >= self.slow:
            raise ValueError("fast must be shorter than slow")

    @property
    def name(self) -> str:
        return "macd_cross"

    def params(self) -> dict[str, ParamValue]:
        return {"fast": self.fast, "slow": self.slow, "signal": self.signal}

    def run(self, bars: OHLCV, risk: RiskModel = RiskModel()) -> SignalRun:
        line, signal_line, _ = macd(bars.close, self.fast, self.slow, self.signal)
        label = f"MACD({self.fast},{self.slow},{self.signal})"
        trigger = cross_rule(
            "macd_cross",
            label,
            line,
            signal_line,
            signal_line,
            long_level_label="its signal line",
            short_level_label="its signal line",
        )
        return run_rules(self.name, bars, risk, trigger, _trend_confirmations(bars))


@dataclass(frozen=True, slots=True)
class _BollingerBands:
    """Parameters and bands shared by the two Bollinger strategies."""

    period: int = 20
    nbdev: float = 2.0

    def __post_init__(self) -> None:
        _check_periods(period=self.period)
        if self.nbdev <= 0:
            raise ValueError("nbdev must be positive")

    def params(self) -> dict[str, ParamValue]:
        return {"period": self.period, "nbdev": self.nbdev}

    def bands(self, bars: OHLCV) -> tuple[FloatArray, FloatArray, str]:
        """(upper, lower, label such as "BB(20,2)")."""
        upper, _, lower = bbands(bars.close, self.period, self.nbdev, self.nbdev)
        return upper, lower, f"BB({self.period},{self.nbdev:g})"


@dataclass(frozen=True, slots=True)
class BollingerBreakout(_BollingerBands):
    """Close breaks out of the bands: above the upper band for long, below the lower for
    short. Confirmations: volume above average, RSI(14) on the signal's side of 50, close on
    the trend side of its 50-bar SMA."""

    @property
    def name(self) -> str:
        return "bb_breakout"

    def run(self, bars: OHLCV, risk: RiskModel = RiskModel()) -> SignalRun:
        upper, lower, bands = self.bands(bars)
        trigger = cross_rule(
            "band_breakout",
            "close",
            bars.close,
            upper,
            lower,
            long_level_label=f"the upper {bands} band",
            short_level_label=f"the lower {bands} band",
        )
        return run_rules(self.name, bars, risk, trigger, _trend_confirmations(bars))


@dataclass(frozen=True, slots=True)
class BollingerReversion(_BollingerBands):
    """Close re-enters the bands after closing outside them: back above the lower band for
    long, back below the upper band for short. Confirmations: RSI(14) still in its weak
    zone (below 40 for long, above 60 for short), a candle of the signal's colour, MACD
    histogram turning the signal's way."""

    @property
    def name(self) -> str:
        return "bb_reversion"

    def run(self, bars: OHLCV, risk: RiskModel = RiskModel()) -> SignalRun:
        upper, lower, bands = self.bands(bars)
        trigger = cross_rule(
            "band_reentry",
            "close",
            bars.close,
            lower,
            upper,
            long_level_label=f"the lower {bands} band (back inside)",
            short_level_label=f"the upper {bands} band (back inside)",
        )
        confirmations = [
            zone_rule(
                "rsi_zone",
                f"RSI({RSI_PERIOD})",
                rsi(bars.close, RSI_PERIOD),
                long_below=40.0,
                short_above=60.0,
            ),
            candle_rule(bars),
            turning_rule("macd_turn", "MACD(12,26,9) histogram", macd(bars.close).hist),
        ]
        return run_rules(self.name, bars, risk, trigger, confirmations)


@dataclass(frozen=True, slots=True)
class MaCross:
    """A fast moving average crosses a slow one (``kind`` sma or ema): above for long,
    below for short. Confirmations: MACD histogram on the signal's side of 0, RSI(14) on
    the signal's side of 50, volume above its 20-bar average."""

    fast: int = 20
    slow: int = 50
    kind: Literal["sma", "ema"] = "sma"

    def __post_init__(self) -> None:
        _check_periods(fast=self.fast, slow=self.slow)
        if self.fast >= self.slow:
            raise ValueError("fast must be shorter than slow")
        if self.kind not in ("sma", "ema"):
            raise ValueError("kind must be 'sma' or 'ema'")

    @property
    def name(self) -> str:
        return f"{self.kind}_cross"

    def params(self) -> dict[str, ParamValue]:
        return {"fast": self.fast, "slow": self.slow, "kind": self.kind}

    def run(self, bars: OHLCV, risk: RiskModel = RiskModel()) -> SignalRun:
        average = sma if self.kind == "sma" else ema
        fast, slow = average(bars.close, self.fast), average(bars.close, self.slow)
        kind = self.kind.upper()
        trigger = cross_rule(
            "ma_cross",
            f"{kind}({self.fast})",
            fast,
            slow,
            slow,
            long_level_label=f"{kind}({self.slow})",
            short_level_label=f"{kind}({self.slow})",
        )
        hist = macd(bars.close).hist
        confirmations = [
            compare_rule("macd_side", "MACD(12,26,9) histogram", hist, "zero", 0.0),
            _rsi_side(bars),
            volume_rule(bars, sma(bars.volume, VOLUME_PERIOD), VOLUME_PERIOD),
        ]
        return run_rules(self.name, bars, risk, trigger, confirmations)


def _rsi_side(bars: OHLCV) -> Rule:
    values = rsi(bars.close, RSI_PERIOD)
    return compare_rule("rsi_side", f"RSI({RSI_PERIOD})", values, "the midline", 50.0)


def _trend_confirmations(bars: OHLCV) -> list[Rule]:
    return [
        compare_rule(
            "trend", "close", bars.close, f"SMA({TREND_PERIOD})", sma(bars.close, TREND_PERIOD)
        ),
        _rsi_side(bars),
        volume_rule(bars, sma(bars.volume, VOLUME_PERIOD), VOLUME_PERIOD),
    ]
