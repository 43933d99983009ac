"""Ingest: each validation rule rejects the whole file, writing nothing; re-ingest is idempotent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from quantdesk.db import Database
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata import frames
from quantdesk.marketdata.frames import InvalidBars
from quantdesk.marketdata.service import BarsRejected, InstrumentNotFound, bar_service
from quantdesk.models import Bar, Quote
from tests.support.factories import create_instrument, load_bars, synthetic_bars

HEADER = "timestamp,open,high,low,close,volume\n"
GOOD_ROWS = [
    "2024-01-01,10,11,9,10.5,100",
    "2024-01-02,10.5,12,10,11.5,200",
    "2024-01-03,11.5,12.5,11,12,300",
]

# (case, rows, expected (line, field) pairs). Line 1 is the header.
BAD_FILES = [
    (
        "unparseable timestamp",
        ["2024-01-01,10,11,9,10.5,100", "not-a-date,10,11,9,10,1"],
        [(3, "timestamp")],
    ),
    (
        "duplicate timestamp",
        ["2024-01-01,10,11,9,10.5,100", "2024-01-01,10,11,9,10.5,100"],
        [(3, "timestamp")],
    ),
    ("out of order", [GOOD_ROWS[1], GOOD_ROWS[0]], [(3, "timestamp")]),
    ("high below open", ["2024-01-01,10,9.5,9,9.8,100"], [(2, "high")]),
    ("high below close", ["2024-01-01,10,10.2,9,10.5,100"], [(2, "high")]),
    ("low above open", ["2024-01-01,10,11,10.1,10.5,100"], [(2, "low")]),
    ("low above close", ["2024-01-01,10.5,11,10.2,10.1,100"], [(2, "low")]),
    ("negative volume", ["2024-01-01,10,11,9,10.5,-1"], [(2, "volume")]),
    ("nan price", ["2024-01-01,nan,11,9,10.5,100"], [(2, "open")]),
    ("infinite price", ["2024-01-01,10,inf,9,10.5,100"], [(2, "high")]),
    ("text price", ["2024-01-01,10,11,9,ten,100"], [(2, "close")]),
    ("empty cell", ["2024-01-01,10,11,,10.5,100"], [(2, "low")]),
    ("extra field", ["2024-01-01,10,11,9,10.5,100", "2024-01-02,10,11,9,10.5,100,7"], [(3, "row")]),
    (
        "several problems reported at once",
        [GOOD_ROWS[0], "2024-01-02,10,9,8,9.5,-5", "bad,1,1,1,1,1", "2024-01-04,1,1,1,1,nan"],
        [(3, "high"), (3, "volume"), (4, "timestamp"), (5, "volume")],
    ),
]


def write_csv(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "bars.csv"
    path.write_text(header + "\n".join(rows) + "\n")
    return path


async def count_bars(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(Bar))).scalar_one())


@pytest.mark.parametrize(("case", "rows", "expected"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_csv_names_each_failing_line(
    tmp_path: Path, case: str, rows: list[str], expected: list[tuple[int, str]]
) -> None:
    with pytest.raises(InvalidBars) as caught:
        frames.read_csv(write_csv(tmp_path, rows))
    found = [(error.line, error.field) for error in caught.value.report.errors]
    assert found == expected, case
    assert "nothing written" in str(caught.value)


@pytest.mark.parametrize(
    ("header", "problem"),
    [("timestamp,open,high,low,volume\n", "close"), ("when,open,high,low,close\n", "timestamp")],
)
def test_missing_columns_are_reported_on_the_header_line(
    tmp_path: Path, header: str, problem: str
) -> None:
    with pytest.raises(InvalidBars) as caught:
        frames.read_csv(write_csv(tmp_path, ["2024-01-01,1,1,1,1"], header=header))
    assert caught.value.report.errors[0].line == 1
    assert problem in caught.value.report.errors[0].message


def test_csv_accepts_offsets_epochs_blank_lines_and_no_volume(tmp_path: Path) -> None:
    offset = write_csv(
        tmp_path,
        ["2024-01-01T01:00:00+01:00,1,2,0.5,1.5,3", "", "2024-01-02T00:00:00Z,1,2,0.5,1.5,3"],
    )
    assert frames.read_csv(offset).ts.tolist() == [1_704_067_200, 1_704_153_600]
    epochs = write_csv(tmp_path, ["1704067200000,1,2,0.5,1.5,3", "1704153600000,1,2,0.5,1.5,3"])
    assert frames.read_csv(epochs).ts.tolist() == [1_704_067_200, 1_704_153_600]
    no_volume = write_csv(tmp_path, ["2024-01-01,1,2,0.5,1.5"], header="Date,Open,High,Low,Close\n")
    assert frames.read_csv(no_volume).volume.tolist() == [0.0]


def test_blank_lines_keep_line_numbers_true(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [GOOD_ROWS[0], "", "", "2024-01-02,10,9,8,9.5,1"])
    with pytest.raises(InvalidBars) as caught:
        frames.read_csv(path)
    assert caught.value.report.errors[0].line == 5


@pytest.mark.parametrize(
    ("case", "rows", "expected"), BAD_FILES[:4], ids=[c[0] for c in BAD_FILES[:4]]
)
async def test_rejected_file_leaves_the_database_unchanged(
    db: Database, tmp_path: Path, case: str, rows: list[str], expected: list[tuple[int, str]]
) -> None:
    await create_instrument(db, "TEST")
    await load_bars(db, "TEST", synthetic_bars(10))
    before = await count_bars(db)
    with pytest.raises(BarsRejected) as caught:
        async with db.session() as session:
            await bar_service.ingest_csv(
                session, write_csv(tmp_path, rows), symbol="TEST", timeframe=Timeframe.D1
            )
    assert caught.value.status == 422
    assert [(e["line"], e["field"]) for e in caught.value.errors or []] == expected
    assert await count_bars(db) == before


async def test_reingest_is_idempotent_and_corrections_replace_values(
    db: Database, tmp_path: Path
) -> None:
    await create_instrument(db, "TEST")
    path = write_csv(tmp_path, GOOD_ROWS)
    for _ in range(2):
        async with db.session() as session:
            result = await bar_service.ingest_csv(
                session, path, symbol="TEST", timeframe=Timeframe.D1
            )
        assert result.rows == 3
    assert await count_bars(db) == 3

    corrected = write_csv(
        tmp_path, [GOOD_ROWS[0], "2024-01-02,10.5,13,10,12.5,250", "2024-01-04,12,13,11,12.5,1"]
    )
    async with db.session() as session:
        await bar_service.ingest_csv(session, corrected, symbol="TEST", timeframe=Timeframe.D1)
    async with db.session() as session:
        closes = (await session.execute(select(Bar.ts, Bar.close).order_by(Bar.ts))).all()
        quote = (await session.execute(select(Quote))).scalar_one()
    assert [c for _, c in closes] == [10.5, 12.5, 12.0, 12.5]
    assert quote.price == 12.5 and quote.previous_close == 12.0


async def test_overlapping_ingest_of_a_large_frame_merges(db: Database) -> None:
    """Exercises the bulk fast path (empty range) and the merge path (overlap) on both engines."""
    await create_instrument(db, "TEST")
    first = synthetic_bars(120_000, step=60)
    await load_bars(db, "TEST", first.slice(0, 80_000), Timeframe.M1)
    await load_bars(db, "TEST", first.slice(60_000, 120_000), Timeframe.M1)
    assert await count_bars(db) == 120_000
    async with db.session() as session:
        total = (await session.execute(select(func.sum(Bar.close)))).scalar_one()
    assert total == pytest.approx(float(np.sum(first.close)), rel=1e-9)


async def test_ingest_into_unknown_instrument_is_refused(db: Database, tmp_path: Path) -> None:
    with pytest.raises(InstrumentNotFound):
        async with db.session() as session:
            await bar_service.ingest_csv(
                session, write_csv(tmp_path, GOOD_ROWS), symbol="NOPE", timeframe=Timeframe.D1
            )
    assert await count_bars(db) == 0


async def test_progress_is_reported_in_chunks(db: Database) -> None:
    await create_instrument(db, "TEST")
    calls: list[tuple[int, int]] = []
    async with db.session() as session:
        await bar_service.ingest(
            session,
            symbol="TEST",
            timeframe=Timeframe.M1,
            frame=synthetic_bars(120_000, step=60),
            progress=lambda done, total: calls.append((done, total)),
        )
    assert calls == [(50_000, 120_000), (100_000, 120_000), (120_000, 120_000)]
