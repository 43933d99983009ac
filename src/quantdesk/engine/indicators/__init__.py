"""Pure technical indicators: float64 numpy arrays in, float64 numpy arrays out.

Batch functions match TA-Lib (values to 1e-9 relative, NaN warm-up at the same
bars; in fact bit for bit with TA-Lib 0.8): they run quantdesk's own numba kernels
(``_jit_averages``, ``_jit_oscillators``; conventions in ``_jit``), which repeat
TA-Lib's arithmetic in a single pass. ``vwap`` and ``rolling_volatility`` have no
TA-Lib counterpart and are defined in their docstrings (numpy, ``_kernels``). Every
output value is known at the close of the bar it is aligned with. The streaming
classes (``quantdesk.engine.indicators.streaming``) reproduce the batch values bar
by bar; the registry parses API indicator specs.

No mutable module state anywhere in this package; the only I/O is numba's on-disk
cache of compiled kernels (``__pycache__``, or ``NUMBA_CACHE_DIR``).
"""

from quantdesk.engine.indicators._core import FloatArray
from quantdesk.engine.indicators.moving_averages import MACDResult, ema, macd, sma, wma
from quantdesk.engine.indicators.oscillators import (
    ADXResult,
    StochResult,
    adx,
    cci,
    roc,
    rsi,
    stoch,
    willr,
)
from quantdesk.engine.indicators.registry import (
    INDICATORS,
    IndicatorDef,
    IndicatorSpec,
    Param,
    compute,
    create_streaming,
    parse_indicator_set,
    parse_indicator_spec,
)
from quantdesk.engine.indicators.volatility import (
    BBandsResult,
    atr,
    bbands,
    rolling_volatility,
    true_range,
)
from quantdesk.engine.indicators.volume import obv, vwap

__all__ = [
    "INDICATORS",
    "ADXResult",
    "BBandsResult",
    "FloatArray",
    "IndicatorDef",
    "IndicatorSpec",
    "MACDResult",
    "Param",
    "StochResult",
    "adx",
    "atr",
    "bbands",
    "cci",
    "compute",
    "create_streaming",
    "ema",
    "macd",
    "obv",
    "parse_indicator_set",
    "parse_indicator_spec",
    "roc",
    "rolling_volatility",
    "rsi",
    "sma",
    "stoch",
    "true_range",
    "vwap",
    "willr",
    "wma",
]
