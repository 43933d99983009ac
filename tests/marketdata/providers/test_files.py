"""CSV and Parquet files, and the bundled demo series, as the embedded bars provider."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.providers.base import BarsQuery, Calendar, FundNavQuery
from quantdesk.marketdata.providers.errors import ProviderSubjectNotFound
from quantdesk.marketdata.providers.recorder import MemoryFetchRecorder
from tests.support.factories import START_2024, synthetic_bars
from tests.support.providers import fast_settings

CSV = """timestamp,open,high,low,close,volume
2024-01-02,10,11,9,10.5,100
2024-01-01,9,10,8.5,9.5,120
2024-01-03,10.5,10,10.2,10.4,90
2024-01-03,10.5,10.9,10.2,10.4,90
2024-01-04,10.4,10.8,10.1,abc,80
2024-01-05,10.6,11,10.5,10.9,70
"""


async def test_csv_bars_are_read_leniently_and_checked(
    tmp_path: Path, runtime_factory: Any, recorder: MemoryFetchRecorder
) -> None:
    (tmp_path / "TEST_1d.csv").write_text(CSV)
    runtime = runtime_factory(fast_settings(providers_files_dirs=[tmp_path]))
    answer = await runtime.fetch(
        BarsQuery("test", Timeframe.D1, start=START_2024, end=START_2024 + 10 * 86_400)
    )
    assert answer.provider == "csv"
    bars = answer.value
    # 01-03 appears twice: its first copy has high < low and is rejected, the valid twin kept.
    assert bars.ts.tolist() == [START_2024 + d * 86_400 for d in (0, 1, 2, 4)]
    quality = answer.quality
    assert (quality.rows, quality.kept, quality.out_of_order, quality.invalid, quality.gaps) == (
        6,
        4,
        1,
        2,
        1,
    )
    reasons = sorted(item.reason for item in recorder.records[0].rejected)
    assert reasons == ["high below low", "non-finite price"]


async def test_parquet_files_and_range_filters(tmp_path: Path, runtime_factory: Any) -> None:
    frame = synthetic_bars(10)
    table = pd.DataFrame(
        {
            "open": frame.open,
            "high": frame.high,
            "low": frame.low,
            "close": frame.close,
            "volume": frame.volume,
        },
        index=pd.to_datetime(frame.ts, unit="s", utc=True),
    )
    (tmp_path / "ACME").mkdir()
    table.to_parquet(tmp_path / "ACME" / "1d.parquet")
    runtime = runtime_factory(
        fast_settings(providers_bars=["parquet"], providers_files_dirs=[tmp_path])
    )
    start, end = int(frame.ts[2]), int(frame.ts[5])
    answer = await runtime.fetch(BarsQuery("ACME", Timeframe.D1, start=start, end=end))
    assert answer.value.ts.tolist() == frame.ts[2:6].tolist()
    assert np.allclose(answer.value.close, frame.close[2:6])


async def test_the_demo_series_answer_without_files(runtime_factory: Any) -> None:
    runtime = runtime_factory(fast_settings(providers_files_demo=True, providers_files_dirs=[]))
    answer = await runtime.fetch(BarsQuery("GOOG", Timeframe.D1, calendar=Calendar.WEEKDAYS))
    assert len(answer.value) == 2148  # backtesting.py's GOOG daily, 2004-08-19 .. 2013-03-01
    assert answer.value.ts[0] == 1_092_873_600
    assert answer.quality.stale  # history, not today's data
    assert answer.quality.score is not None and 0.4 < answer.quality.score <= 0.5


async def test_a_missing_file_is_not_found_and_paths_stay_inside_the_directory(
    tmp_path: Path, runtime_factory: Any
) -> None:
    outside = tmp_path.parent / "SECRET_1d.csv"
    outside.write_text(CSV)
    inner = tmp_path / "data"
    inner.mkdir()
    runtime = runtime_factory(fast_settings(providers_files_dirs=[inner]))
    for symbol in ("NOPE", "../SECRET"):
        with pytest.raises(ProviderSubjectNotFound):
            await runtime.fetch(BarsQuery(symbol, Timeframe.D1), provider="csv")


async def test_fund_navs_from_a_series_file(tmp_path: Path, runtime_factory: Any) -> None:
    (tmp_path / "series").mkdir()
    rows = "\n".join(f"2024-01-{day:02d},{100 + day * 0.1:.2f}" for day in range(1, 11))
    (tmp_path / "series" / "VFIAX.csv").write_text(
        "date,nav\n" + rows + "\n2024-01-11,1000.00\n2024-01-12,101.20\n"
    )
    runtime = runtime_factory(fast_settings(providers_files_dirs=[tmp_path]))
    answer = await runtime.fetch(FundNavQuery("VFIAX"))
    assert len(answer.value) == 11 and answer.quality.outliers == 1  # the 1000.00 spike
