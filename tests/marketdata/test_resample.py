"""Resampling checked against pandas' resample().agg() on the genuine demo series."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata import frames
from quantdesk.marketdata.resample import resample

AGG = {"Open": "first", "High": "max", "Low": "min", "Close": "last", "Volume": "sum"}
# Our bucket conventions in pandas terms: buckets labelled by their start.
PANDAS_RULE = {Timeframe.H4: "4h", Timeframe.D1: "1D", Timeframe.W1: "W-MON", Timeframe.MN1: "MS"}


def demo_csv(name: str) -> tuple[frames.BarFrame, pd.DataFrame]:
    path = files("backtesting.test") / name
    frame = frames.read_csv(str(path))
    table = pd.read_csv(str(path), index_col=0, parse_dates=True)
    return frame, table


@pytest.mark.parametrize(
    ("resource", "target"),
    [
        ("GOOG.csv", Timeframe.W1),
        ("GOOG.csv", Timeframe.MN1),
        ("EURUSD.csv", Timeframe.H4),
        ("EURUSD.csv", Timeframe.D1),
        ("EURUSD.csv", Timeframe.W1),
    ],
)
def test_resample_matches_pandas(resource: str, target: Timeframe) -> None:
    frame, table = demo_csv(resource)
    expected = table.resample(PANDAS_RULE[target], label="left", closed="left").agg(AGG).dropna()
    got = resample(frame, target)
    index = expected.index.to_numpy(dtype="datetime64[s]").astype(np.int64)
    np.testing.assert_array_equal(got.ts, index)
    for ours, theirs in zip(
        (got.open, got.high, got.low, got.close, got.volume),
        (expected.Open, expected.High, expected.Low, expected.Close, expected.Volume),
        strict=True,
    ):
        np.testing.assert_allclose(ours, theirs.to_numpy(dtype=np.float64), rtol=1e-12)


def test_resample_of_an_empty_frame_is_empty() -> None:
    empty = frames.BarFrame.from_columns(([], [], [], [], [], []))
    assert len(resample(empty, Timeframe.W1)) == 0


@pytest.mark.parametrize(
    ("target", "source", "ok"),
    [
        (Timeframe.H4, Timeframe.H1, True),
        (Timeframe.D1, Timeframe.H4, True),
        (Timeframe.W1, Timeframe.D1, True),
        (Timeframe.MN1, Timeframe.D1, True),
        (Timeframe.MN1, Timeframe.W1, False),  # weeks straddle month ends
        (Timeframe.H1, Timeframe.D1, False),
        (Timeframe.D1, Timeframe.W1, False),
    ],
)
def test_which_timeframes_tile_which(target: Timeframe, source: Timeframe, ok: bool) -> None:
    assert target.can_resample_from(source) is ok
