"""Streaming indicators reproduce the batch results bar by bar."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from quantdesk.engine import indicators as ind
from quantdesk.engine.indicators import INDICATORS, FloatArray, IndicatorSpec
from quantdesk.engine.indicators.streaming import (
    Bar,
    MACDPoint,
    StreamingATR,
    StreamingBBands,
    StreamingMACD,
    StreamingOBV,
    StreamingRSI,
    StreamingSMA,
    StreamingVWAP,
)
from tests.support.ohlcv import OHLCV

#: Largest period drawn, so that most generated series get past the warm-up.
SMALL_PERIOD = 12

# Prices mix arbitrary floats with a few recurring levels, which produces the flat
# windows and ties where the indicators' zero guards matter.
prices = st.one_of(
    st.floats(min_value=1.0, max_value=1000.0, allow_nan=False, allow_infinity=False),
    st.sampled_from([100.0, 100.5, 0.1 + 0.2]),
)


@st.composite
def ohlcv_bars(draw: st.DrawFn, max_size: int = 60) -> list[Bar]:
    """Valid bars: high >= max(open, close), low <= min(open, close), volume >= 0."""
    size = draw(st.integers(min_value=0, max_value=max_size))
    column = st.lists(prices, min_size=size, max_size=size)
    opens, closes = draw(column), draw(column)
    wicks = st.lists(st.sampled_from([0.0, 0.001, 0.01, 0.05]), min_size=size, max_size=size)
    ups, downs = draw(wicks), draw(wicks)
    # Whole shares: running volume sums are then exact, like real volume data.
    volumes = draw(st.lists(st.integers(0, 10**7), min_size=size, max_size=size))
    return [
        Bar(o, max(o, c) * (1.0 + up), min(o, c) * (1.0 - down), c, float(v))
        for o, c, up, down, v in zip(opens, closes, ups, downs, volumes, strict=True)
    ]


@st.composite
def specs(draw: st.DrawFn, name: str) -> IndicatorSpec:
    """A spec for ``name`` with small, valid parameters."""
    args: list[str] = []
    for param in INDICATORS[name].params:
        if param.kind == "int":
            low = int(param.minimum)
            value = draw(st.integers(low, max(low, SMALL_PERIOD)))
            if param.default is None and draw(st.booleans()):
                break  # an optional parameter left out (cumulative VWAP)
            args.append(str(value))
        elif param.name == "periods_per_year":
            args.append(draw(st.sampled_from(["1", "252", "365.25"])))
        else:
            args.append(repr(draw(st.floats(0.0, 4.0))))
    try:
        return ind.parse_indicator_spec(":".join([name, *args]))
    except ValueError:
        assume(False)  # e.g. a MACD with fast >= slow
        raise


def as_columns(bars: list[Bar]) -> OHLCV:
    if not bars:
        return OHLCV(*(np.empty(0) for _ in range(5)))
    return OHLCV(*(np.array(column, dtype=np.float64) for column in zip(*bars, strict=True)))


def assert_stream_equals_batch(spec: IndicatorSpec, bars: list[Bar]) -> None:
    data = as_columns(bars)
    batch = ind.compute(spec, *data)
    stream = ind.create_streaming(spec)
    rows = [stream.update_bar(bar) for bar in bars]
    assert all(len(row) == len(spec.columns) for row in rows)
    for index, column in enumerate(spec.columns):
        expected = batch[column]
        got = np.array([row[index] for row in rows], dtype=np.float64)
        finite = expected[np.isfinite(expected)]
        scale = max(1.0, float(np.abs(finite).max())) if finite.size else 1.0
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected), err_msg=column)
        np.testing.assert_allclose(
            got, expected, rtol=1e-9, atol=1e-9 * scale, equal_nan=True, err_msg=column
        )


@pytest.mark.parametrize("name", sorted(INDICATORS))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_streaming_equals_batch(name: str, data: st.DataObject) -> None:
    spec = data.draw(specs(name), label="spec")
    bars = data.draw(ohlcv_bars(), label="bars")
    assert_stream_equals_batch(spec, bars)


@pytest.mark.parametrize("name", sorted(INDICATORS))
def test_streaming_equals_batch_on_long_series(name: str, datasets: dict[str, OHLCV]) -> None:
    """Thousands of bars exercise the periodic re-synchronisation of running sums."""
    data = datasets["goog"]
    bars = [Bar(*values) for values in zip(*data, strict=True)]
    for spec in ind.parse_indicator_set(
        f"{name},{name}:{'3' if name != 'obv' else ''}".rstrip(":")
    ):
        assert_stream_equals_batch(spec, bars)


@pytest.mark.parametrize("name", sorted(INDICATORS))
def test_warmup_is_the_first_bar_with_all_outputs(name: str, datasets: dict[str, OHLCV]) -> None:
    spec = ind.parse_indicator_set(name)[0]
    data = datasets["random"]
    batch = ind.compute(spec, *data)
    ready = np.logical_and.reduce([~np.isnan(values) for values in batch.values()])
    assert int(np.argmax(ready)) == ind.create_streaming(spec).warmup


def test_typed_update_methods() -> None:
    closes = [10.0, 11.0, 10.5, 12.0, 12.5, 12.0, 13.0]
    sma = StreamingSMA(3)
    assert [sma.update(c) for c in closes][2:4] == pytest.approx([10.5, 11.1666666666666])
    rsi = StreamingRSI(2)
    values = [rsi.update(c) for c in closes]
    assert math.isnan(values[1])
    np.testing.assert_allclose(values, ind.rsi(np.array(closes), 2), rtol=1e-12)
    macd = StreamingMACD(2, 3, 2)
    point = [macd.update(c) for c in closes][-1]
    assert isinstance(point, MACDPoint)
    assert point.hist == pytest.approx(point.macd - point.signal)
    bands = StreamingBBands(3, 2.0, 1.0).update(1.0)
    assert all(math.isnan(value) for value in bands)
    atr = StreamingATR(2)
    assert math.isnan(atr.update(11.0, 9.0, 10.0))
    obv = StreamingOBV()
    assert [obv.update(c, 5.0) for c in (1.0, 2.0, 2.0, 1.0)] == [5.0, 10.0, 10.0, 5.0]
    vwap = StreamingVWAP()
    assert math.isnan(vwap.update(10.0, 10.0, 10.0, 0.0))
    assert vwap.update(12.0, 12.0, 12.0, 2.0) == 12.0


def _series(values: FloatArray) -> list[Bar]:
    return [Bar(v, v, v, v, 1.0) for v in values.tolist()]


def test_streaming_bbands_is_exactly_flat_after_a_level_shift() -> None:
    """The streaming variance re-centres itself, so a flat window gives sigma == 0."""
    values = np.concatenate([np.linspace(100.0, 200.0, 30), np.full(10, 150.25)])
    stream = StreamingBBands(5)
    points = [stream.update_bar(bar) for bar in _series(values)]
    upper, middle, lower = points[-1]
    assert upper == middle == lower
