"""Indicator specs as used by the API's ``?set=rsi:14,macd:12:26:9,bbands:20:2``.

``parse_indicator_set`` turns the text into validated :class:`IndicatorSpec` values
(``ValueError`` with a readable message otherwise); ``compute`` runs one spec over
OHLCV arrays and names its output columns; ``create_streaming`` builds the
bar-by-bar equivalent, whose ``update_bar`` outputs line up with ``spec.columns``.

Column names join the indicator, the output and every parameter (defaults
included) with ``_``: ``rsi_14``, ``macd_signal_12_26_9``, ``bbands_upper_20_2``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal

import numpy.typing as npt

from quantdesk.engine.indicators._core import FloatArray, as_float_arrays
from quantdesk.engine.indicators.moving_averages import ema, macd, sma, wma
from quantdesk.engine.indicators.oscillators import adx, cci, roc, rsi, stoch, willr
from quantdesk.engine.indicators.streaming import (
    StreamingADX,
    StreamingATR,
    StreamingBBands,
    StreamingCCI,
    StreamingEMA,
    StreamingIndicator,
    StreamingMACD,
    StreamingOBV,
    StreamingROC,
    StreamingRSI,
    StreamingSMA,
    StreamingStoch,
    StreamingVolatility,
    StreamingVWAP,
    StreamingWillR,
    StreamingWMA,
)
from quantdesk.engine.indicators.volatility import atr, bbands, rolling_volatility
from quantdesk.engine.indicators.volume import obv, vwap

#: Upper bound on every period accepted from a request (the batch functions allow
#: TA-Lib's 100000; a request asking for more than this is almost surely a mistake).
MAX_SPEC_PERIOD: Final = 1000

#: Most entries accepted in one indicator set, to bound the work of one request.
MAX_INDICATORS: Final = 32

ParamValue = int | float | None
InputName = Literal["open", "high", "low", "close", "volume"]

_INT_TEXT: Final = re.compile(r"[+-]?[0-9]{1,9}")
_FLOAT_TEXT: Final = re.compile(
    r"[+-]?(?:[0-9]{1,12}(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?"
)


@dataclass(frozen=True, slots=True)
class Param:
    """One positional argument of an indicator spec."""

    name: str
    kind: Literal["int", "float"]
    default: ParamValue
    minimum: float
    maximum: float
    #: Keyword arguments of the batch function / streaming class that receive the
    #: value (bbands' single ``nbdev`` feeds both band widths). Defaults to ``name``.
    targets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IndicatorDef:
    """How to validate, compute and name one indicator."""

    name: str
    summary: str
    inputs: tuple[InputName, ...]
    params: tuple[Param, ...]
    #: Output suffixes in the order the batch function returns them; "" is the main one.
    outputs: tuple[str, ...]
    batch: Callable[..., FloatArray | tuple[FloatArray, ...]]
    streaming: Callable[..., StreamingIndicator]
    check: Callable[[tuple[ParamValue, ...]], None] | None = None


def _period(name: str, default: int | None, minimum: int = 1) -> Param:
    return Param(name, "int", default, minimum, MAX_SPEC_PERIOD)


def _check_macd(values: tuple[ParamValue, ...]) -> None:
    fast, slow, _ = values
    if fast is not None and slow is not None and fast >= slow:
        raise ValueError(f"macd: fast ({fast}) must be less than slow ({slow})")


_HLC: Final[tuple[InputName, ...]] = ("high", "low", "close")

_DEFINITIONS: Final = (
    IndicatorDef(
        "sma",
        "simple moving average",
        ("close",),
        (_period("period", 30),),
        ("",),
        sma,
        StreamingSMA,
    ),
    IndicatorDef(
        "ema",
        "exponential moving average",
        ("close",),
        (_period("period", 30),),
        ("",),
        ema,
        StreamingEMA,
    ),
    IndicatorDef(
        "wma",
        "weighted moving average",
        ("close",),
        (_period("period", 30),),
        ("",),
        wma,
        StreamingWMA,
    ),
    IndicatorDef(
        "rsi",
        "relative strength index",
        ("close",),
        (_period("period", 14, 2),),
        ("",),
        rsi,
        StreamingRSI,
    ),
    IndicatorDef(
        "macd",
        "moving average convergence/divergence",
        ("close",),
        (_period("fast", 12, 2), _period("slow", 26, 2), _period("signal", 9)),
        ("", "signal", "hist"),
        macd,
        StreamingMACD,
        _check_macd,
    ),
    IndicatorDef(
        "bbands",
        "Bollinger Bands",
        ("close",),
        (
            _period("period", 5, 2),
            Param("nbdev", "float", 2.0, 0.0, 10.0, ("nbdev_up", "nbdev_dn")),
        ),
        ("upper", "middle", "lower"),
        bbands,
        StreamingBBands,
    ),
    IndicatorDef(
        "atr", "average true range", _HLC, (_period("period", 14),), ("",), atr, StreamingATR
    ),
    IndicatorDef(
        "stoch",
        "slow stochastic",
        _HLC,
        (_period("fastk_period", 5), _period("slowk_period", 3), _period("slowd_period", 3)),
        ("k", "d"),
        stoch,
        StreamingStoch,
    ),
    IndicatorDef(
        "adx",
        "average directional index",
        _HLC,
        (_period("period", 14, 2),),
        ("", "plus_di", "minus_di"),
        adx,
        StreamingADX,
    ),
    IndicatorDef("obv", "on-balance volume", ("close", "volume"), (), ("",), obv, StreamingOBV),
    IndicatorDef(
        "roc", "rate of change", ("close",), (_period("period", 10),), ("",), roc, StreamingROC
    ),
    IndicatorDef(
        "cci",
        "commodity channel index",
        _HLC,
        (_period("period", 14, 2),),
        ("",),
        cci,
        StreamingCCI,
    ),
    IndicatorDef(
        "willr", "Williams %R", _HLC, (_period("period", 14, 2),), ("",), willr, StreamingWillR
    ),
    IndicatorDef(
        "vwap",
        "volume-weighted average price (cumulative, or over a window of bars)",
        ("high", "low", "close", "volume"),
        (_period("window", None),),
        ("",),
        vwap,
        StreamingVWAP,
    ),
    IndicatorDef(
        "volatility",
        "annualized rolling volatility of log returns",
        ("close",),
        (_period("period", 20, 2), Param("periods_per_year", "float", 252.0, 1.0, 1_000_000.0)),
        ("",),
        rolling_volatility,
        StreamingVolatility,
    ),
)

#: Every known indicator by name (read-only).
INDICATORS: Final[Mapping[str, IndicatorDef]] = MappingProxyType(
    {definition.name: definition for definition in _DEFINITIONS}
)


def _format_value(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """A validated indicator with all parameters resolved (defaults filled in)."""

    name: str
    params: tuple[ParamValue, ...]

    @property
    def definition(self) -> IndicatorDef:
        return INDICATORS[self.name]

    @property
    def suffix(self) -> str:
        """The parameters joined by ``_`` (``12_26_9``); empty without parameters."""
        return "_".join(_format_value(value) for value in self.params if value is not None)

    @property
    def columns(self) -> tuple[str, ...]:
        """Output column names, in the order of the batch/streaming outputs."""
        tail = f"_{self.suffix}" if self.suffix else ""
        return tuple(
            f"{self.name}_{output}{tail}" if output else f"{self.name}{tail}"
            for output in self.definition.outputs
        )

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the batch function and the streaming class."""
        result: dict[str, Any] = {}
        for param, value in zip(self.definition.params, self.params, strict=True):
            for target in param.targets or (param.name,):
                result[target] = value
        return result

    def __str__(self) -> str:
        """The canonical text form, which ``parse_indicator_set`` reads back."""
        return ":".join([self.name, *(_format_value(v) for v in self.params if v is not None)])


def _parse_value(indicator: str, param: Param, text: str) -> int | float:
    if param.kind == "int":
        if not _INT_TEXT.fullmatch(text):
            raise ValueError(f"{indicator}: {param.name} must be an integer, got {text!r}")
        value: int | float = int(text)
    else:
        if not _FLOAT_TEXT.fullmatch(text) or not math.isfinite(float(text)):
            raise ValueError(f"{indicator}: {param.name} must be a number, got {text!r}")
        value = float(text)
    if not param.minimum <= value <= param.maximum:
        low, high = _format_value(param.minimum), _format_value(param.maximum)
        raise ValueError(f"{indicator}: {param.name} must be between {low} and {high}, got {text}")
    return value


def parse_indicator_spec(text: str) -> IndicatorSpec:
    """Parse one ``name[:arg[:arg...]]`` entry (case-insensitive name)."""
    name, *args = (part.strip() for part in text.strip().split(":"))
    name = name.lower()
    definition = INDICATORS.get(name)
    if definition is None:
        known = ", ".join(sorted(INDICATORS))
        raise ValueError(f"unknown indicator {name!r} in {text.strip()!r}; known: {known}")
    params = definition.params
    if len(args) > len(params):
        if not params:
            raise ValueError(f"{name} takes no arguments, got {len(args)} in {text.strip()!r}")
        names = ", ".join(param.name for param in params)
        raise ValueError(
            f"{name} takes at most {len(params)} argument(s) ({names}), "
            f"got {len(args)} in {text.strip()!r}"
        )
    values: list[ParamValue] = []
    for index, param in enumerate(params):
        if index >= len(args):
            values.append(param.default)
        elif not args[index]:
            raise ValueError(f"{name}: missing value for {param.name} in {text.strip()!r}")
        else:
            values.append(_parse_value(name, param, args[index]))
    resolved = tuple(values)
    if definition.check is not None:
        definition.check(resolved)
    return IndicatorSpec(name, resolved)


def parse_indicator_set(text: str) -> list[IndicatorSpec]:
    """Parse a comma-separated set such as ``"rsi:14,macd:12:26:9,bbands:20:2"``.

    Omitted trailing arguments take their defaults; duplicates are dropped (first
    occurrence kept). Raises ``ValueError`` naming the offending entry.
    """
    if not text.strip():
        raise ValueError("indicator set is empty")
    entries = text.split(",")
    if len(entries) > MAX_INDICATORS:
        raise ValueError(f"at most {MAX_INDICATORS} indicators per set, got {len(entries)}")
    specs: list[IndicatorSpec] = []
    for position, entry in enumerate(entries, start=1):
        if not entry.strip():
            raise ValueError(f"empty entry at position {position} in {text!r}")
        spec = parse_indicator_spec(entry)
        if spec not in specs:
            specs.append(spec)
    return specs


def compute(
    spec: IndicatorSpec,
    open: npt.ArrayLike,
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    volume: npt.ArrayLike,
) -> dict[str, FloatArray]:
    """Compute ``spec`` over OHLCV arrays (oldest first), keyed by column name.

    Each array has the inputs' length, NaN during warm-up; see the batch function
    of the indicator for units and semantics.
    """
    arrays = as_float_arrays(open=open, high=high, low=low, close=close, volume=volume)
    series: dict[InputName, FloatArray] = dict(
        zip(("open", "high", "low", "close", "volume"), arrays, strict=True)
    )
    definition = spec.definition
    result = definition.batch(*(series[name] for name in definition.inputs), **spec.kwargs())
    outputs = result if isinstance(result, tuple) else (result,)
    return dict(zip(spec.columns, outputs, strict=True))


def create_streaming(spec: IndicatorSpec) -> StreamingIndicator:
    """A fresh streaming indicator for ``spec``; its outputs follow ``spec.columns``."""
    return spec.definition.streaming(**spec.kwargs())
