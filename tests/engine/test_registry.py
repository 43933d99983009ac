"""Parsing of ``?set=`` indicator specs, column naming and dispatch."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np
import pytest

from quantdesk.engine import indicators as ind
from quantdesk.engine.indicators import INDICATORS, FloatArray, IndicatorSpec
from tests.support.ohlcv import OHLCV


@pytest.mark.parametrize(
    ("text", "columns"),
    [
        (
            "rsi:14,macd:12:26:9,bbands:20:2",
            [
                ["rsi_14"],
                ["macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9"],
                ["bbands_upper_20_2", "bbands_middle_20_2", "bbands_lower_20_2"],
            ],
        ),
        ("rsi", [["rsi_14"]]),
        ("macd", [["macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9"]]),
        ("bbands:20:2.5", [["bbands_upper_20_2.5", "bbands_middle_20_2.5", "bbands_lower_20_2.5"]]),
        ("bbands:20", [["bbands_upper_20_2", "bbands_middle_20_2", "bbands_lower_20_2"]]),
        ("stoch", [["stoch_k_5_3_3", "stoch_d_5_3_3"]]),
        ("stoch:14", [["stoch_k_14_3_3", "stoch_d_14_3_3"]]),
        ("adx:14", [["adx_14", "adx_plus_di_14", "adx_minus_di_14"]]),
        ("obv", [["obv"]]),
        ("vwap", [["vwap"]]),
        ("vwap:390", [["vwap_390"]]),
        ("volatility:20", [["volatility_20_252"]]),
        ("volatility:20:365.25", [["volatility_20_365.25"]]),
        ("sma:20,ema:20,wma:20", [["sma_20"], ["ema_20"], ["wma_20"]]),
        ("atr,roc,cci,willr", [["atr_14"], ["roc_10"], ["cci_14"], ["willr_14"]]),
        (" RSI : 14 , Sma:5 ", [["rsi_14"], ["sma_5"]]),
        ("rsi:14,rsi,rsi:14", [["rsi_14"]]),  # duplicates collapse, first kept
        ("sma:1,sma:1000", [["sma_1"], ["sma_1000"]]),
        ("rsi:+7", [["rsi_7"]]),
    ],
)
def test_parse_indicator_set(text: str, columns: list[list[str]]) -> None:
    specs = ind.parse_indicator_set(text)
    assert [list(spec.columns) for spec in specs] == columns


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "indicator set is empty"),
        ("   ", "indicator set is empty"),
        ("foo:3", "unknown indicator 'foo'"),
        ("rsi:14,,sma", "empty entry at position 2"),
        ("rsi:14,", "empty entry at position 2"),
        ("rsi:14:3", r"rsi takes at most 1 argument\(s\) \(period\), got 2"),
        ("macd:1:2:3:4", r"macd takes at most 3 argument\(s\) \(fast, slow, signal\)"),
        ("obv:3", "obv takes no arguments"),
        ("rsi:", "rsi: missing value for period"),
        ("bbands::2", "bbands: missing value for period"),
        ("rsi:abc", "rsi: period must be an integer, got 'abc'"),
        ("rsi:14.5", "rsi: period must be an integer, got '14.5'"),
        ("rsi:1e3", "must be an integer"),
        ("rsi:99999999999999", "must be an integer"),
        ("rsi:1", "rsi: period must be between 2 and 1000, got 1"),
        ("rsi:0", "between 2 and 1000"),
        ("sma:0", "sma: period must be between 1 and 1000, got 0"),
        ("sma:-5", "between 1 and 1000, got -5"),
        ("ema:1001", "between 1 and 1000, got 1001"),
        ("bbands:20:x", "bbands: nbdev must be a number, got 'x'"),
        ("bbands:20:nan", "must be a number"),
        ("bbands:20:inf", "must be a number"),
        ("bbands:20:11", "nbdev must be between 0 and 10, got 11"),
        ("bbands:20:-1", "between 0 and 10"),
        ("macd:26:12:9", r"macd: fast \(26\) must be less than slow \(12\)"),
        ("macd:12:12:9", "must be less than slow"),
        ("macd:12:26:0", "signal must be between 1 and 1000"),
        ("stoch:5:0", "slowk_period must be between 1 and 1000"),
        ("volatility:20:0", "periods_per_year must be between 1 and 1000000"),
        (",".join(["sma"] * 33), "at most 32 indicators"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ind.parse_indicator_set(text)


@pytest.mark.parametrize("text", ["rsi", "macd:5:35:5", "bbands:20:2.5", "vwap", "vwap:20", "obv"])
def test_str_round_trips(text: str) -> None:
    spec = ind.parse_indicator_spec(text)
    assert ind.parse_indicator_spec(str(spec)) == spec


@pytest.mark.parametrize("name", sorted(INDICATORS))
def test_registry_defaults_match_the_batch_functions(name: str) -> None:
    definition = INDICATORS[name]
    signature = inspect.signature(definition.batch).parameters
    for param in definition.params:
        for target in param.targets or (param.name,):
            assert signature[target].default == param.default, (name, target)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rsi:7", lambda d: {"rsi_7": ind.rsi(d.close, 7)}),
        (
            "bbands:10:1.5",
            lambda d: dict(
                zip(
                    ("bbands_upper_10_1.5", "bbands_middle_10_1.5", "bbands_lower_10_1.5"),
                    ind.bbands(d.close, 10, 1.5, 1.5),
                    strict=True,
                )
            ),
        ),
        ("obv", lambda d: {"obv": ind.obv(d.close, d.volume)}),
        ("vwap:5", lambda d: {"vwap_5": ind.vwap(d.high, d.low, d.close, d.volume, 5)}),
        (
            "stoch:9:1:4",
            lambda d: dict(
                zip(
                    ("stoch_k_9_1_4", "stoch_d_9_1_4"),
                    ind.stoch(d.high, d.low, d.close, 9, 1, 4),
                    strict=True,
                )
            ),
        ),
    ],
)
def test_compute_dispatches_to_the_batch_function(
    text: str, expected: Callable[[OHLCV], dict[str, FloatArray]], datasets: dict[str, OHLCV]
) -> None:
    data = datasets["random"]
    spec = ind.parse_indicator_spec(text)
    got = ind.compute(spec, *data)
    want = expected(data)
    assert list(got) == list(spec.columns) == list(want)
    for column, values in got.items():
        np.testing.assert_array_equal(values, want[column])


def test_compute_rejects_mismatched_lengths() -> None:
    spec = ind.parse_indicator_spec("sma:3")
    with pytest.raises(ValueError, match="same length"):
        ind.compute(spec, np.ones(5), np.ones(5), np.ones(5), np.ones(4), np.ones(5))


def test_specs_are_hashable_values() -> None:
    first, second = ind.parse_indicator_spec("rsi:14"), ind.parse_indicator_spec("RSI")
    assert first == second
    assert len({first, second}) == 1
    assert first == IndicatorSpec("rsi", (14,))
