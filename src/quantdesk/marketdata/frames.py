"""Parsing and validating OHLCV input (pure: arrays and files in, arrays or a report out).

Every rule is checked on whole columns with numpy, so validation costs a few milliseconds per
100k rows and a bad file is reported completely (every failing line, by rule) before anything
touches the database.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Header names accepted for each column (case-insensitive). An unnamed first column is the
# timestamp (pandas' `to_csv()` of a DatetimeIndex writes it that way, as in backtesting.py's data).
TIME_ALIASES = ("timestamp", "time", "date", "datetime", "ts", "t")
COLUMN_ALIASES = {
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c", "adj close"),
    "volume": ("volume", "vol", "v"),
}
MAX_REPORTED_ERRORS = 50
# Epoch numbers above this are milliseconds (year 5138 in seconds; 1973 in milliseconds).
EPOCH_MS_THRESHOLD = 100_000_000_000


@dataclass(frozen=True)
class RowError:
    line: int | None
    field: str
    message: str


@dataclass
class ValidationReport:
    errors: list[RowError] = field(default_factory=list)
    total: int = 0  # every failing (line, rule), including those beyond MAX_REPORTED_ERRORS

    def add(self, line: int | None, field_name: str, message: str) -> None:
        self.total += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(line, field_name, message))

    def sort(self) -> None:
        self.errors.sort(key=lambda error: (error.line or 0, error.field))

    @property
    def ok(self) -> bool:
        return self.total == 0

    def summary(self) -> str:
        shown = "; ".join(
            (f"line {e.line}: " if e.line is not None else "") + f"{e.field}: {e.message}"
            for e in self.errors[:5]
        )
        more = f" (and {self.total - 5} more)" if self.total > 5 else ""
        return f"{self.total} problem(s): {shown}{more}"


class InvalidBars(ValueError):
    def __init__(self, report: ValidationReport, source: str = "input") -> None:
        super().__init__(f"{source} rejected, nothing written: {report.summary()}")
        self.report = report
        self.source = source


@dataclass(frozen=True)
class BarFrame:
    """Validated OHLCV columns, ts strictly increasing (epoch seconds, UTC)."""

    ts: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    @classmethod
    def from_columns(cls, columns: Sequence[Any]) -> BarFrame:
        """From (ts, open, high, low, close, volume) sequences, e.g. a database read."""
        ts, open_, high, low, close, volume = columns

        def floats(values: Any) -> FloatArray:
            return np.ascontiguousarray(values, dtype=np.float64)

        return cls(
            np.ascontiguousarray(ts, dtype=np.int64),
            floats(open_),
            floats(high),
            floats(low),
            floats(close),
            floats(volume),
        )

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def slice(self, start: int, stop: int) -> BarFrame:
        return self.select(slice(start, stop))

    def select(self, rows: builtins.slice | npt.NDArray[np.bool_] | IntArray) -> BarFrame:
        """Rows by slice, boolean mask or index array."""
        return BarFrame(
            self.ts[rows],
            self.open[rows],
            self.high[rows],
            self.low[rows],
            self.close[rows],
            self.volume[rows],
        )

    def columns(
        self,
    ) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        return (self.ts, self.open, self.high, self.low, self.close, self.volume)


def validate(
    frame: BarFrame,
    *,
    lines: IntArray | None = None,
    report: ValidationReport | None = None,
) -> ValidationReport:
    """Check every bar rule on whole columns; `lines` maps row index -> source line number."""
    report = report or ValidationReport()

    def line_of(index: int) -> int | None:
        return int(lines[index]) if lines is not None else index

    ts, open_, high, low, close, volume = frame.columns()
    named = {"open": open_, "high": high, "low": low, "close": close, "volume": volume}
    finite_rows = np.ones(ts.shape[0], dtype=bool)
    for name, values in named.items():
        bad = ~np.isfinite(values)
        finite_rows &= ~bad
        for index in np.flatnonzero(bad):
            report.add(line_of(int(index)), name, f"{float(values[index])} is not a finite number")
    with np.errstate(invalid="ignore"):
        body_top = np.maximum(open_, close)
        body_bottom = np.minimum(open_, close)
        for index in np.flatnonzero(finite_rows & (high < body_top)):
            report.add(
                line_of(int(index)),
                "high",
                f"high {high[index]} is below max(open, close) {body_top[index]}",
            )
        for index in np.flatnonzero(finite_rows & (low > body_bottom)):
            report.add(
                line_of(int(index)),
                "low",
                f"low {low[index]} is above min(open, close) {body_bottom[index]}",
            )
        for index in np.flatnonzero(finite_rows & (volume < 0)):
            report.add(line_of(int(index)), "volume", f"volume {volume[index]} is negative")
    if ts.shape[0] > 1:
        for index in np.flatnonzero(np.diff(ts) <= 0) + 1:
            previous = np.datetime64(int(ts[index - 1]), "s")
            current = np.datetime64(int(ts[index]), "s")
            what = "duplicates" if ts[index] == ts[index - 1] else "is earlier than"
            report.add(
                line_of(int(index)),
                "timestamp",
                f"{current}Z {what} the previous row's {previous}Z "
                "(timestamps must strictly increase)",
            )
    return report


def frame_from_arrays(
    ts: Any, open_: Any, high: Any, low: Any, close: Any, volume: Any, *, source: str = "input"
) -> BarFrame:
    """Build a BarFrame from array-likes (epoch seconds, prices), validating every rule."""
    frame = BarFrame.from_columns((ts, open_, high, low, close, volume))
    lengths = {column.shape[0] for column in frame.columns()}
    if len(lengths) != 1:
        report = ValidationReport()
        report.add(None, "columns", f"columns differ in length: {sorted(lengths)}")
        raise InvalidBars(report, source)
    report = validate(frame)
    if not report.ok:
        report.sort()
        raise InvalidBars(report, source)
    return frame


def _find_column(header: list[str], aliases: tuple[str, ...]) -> int | None:
    lowered = [name.strip().lower() for name in header]
    for alias in aliases:
        if alias in lowered:
            return lowered.index(alias)
    return None


def _parse_timestamps(raw: pd.Series[Any]) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Epoch seconds and a mask of unparseable cells. Naive times are UTC; offsets converted."""
    text = raw.astype("string").str.strip()
    numeric = pd.to_numeric(text, errors="coerce")
    if numeric.notna().all() and len(text) > 0:
        values = numeric.to_numpy(dtype=np.float64)
        values = np.where(np.abs(values) >= EPOCH_MS_THRESHOLD, values / 1000.0, values)
        return values.astype(np.int64), np.zeros(len(values), dtype=bool)
    parsed = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    bad = parsed.isna().to_numpy()
    seconds = parsed.to_numpy(dtype="datetime64[s]", na_value=np.datetime64(0, "s")).astype(
        np.int64
    )
    return seconds, bad


def read_csv(source: str | Path | IO[str], *, name: str | None = None) -> BarFrame:
    """Parse and validate an OHLCV CSV. Raises InvalidBars naming every bad line (1-based, the
    header is line 1). Blank lines are skipped but still counted, so line numbers match editors."""
    label = name or (str(source) if isinstance(source, str | Path) else "csv")
    report = ValidationReport()
    try:
        table = pd.read_csv(
            source, dtype=str, skip_blank_lines=False, keep_default_na=False, engine="c"
        )
    except pd.errors.ParserError as exc:  # e.g. "Expected 6 fields in line 7, saw 8"
        message = str(exc).strip().removeprefix("Error tokenizing data. C error: ")
        found = re.search(r"line (\d+)", message)
        report.add(int(found.group(1)) if found else None, "row", message)
        raise InvalidBars(report, label) from exc
    except (pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        report.add(None, "file", f"not a readable CSV: {exc}")
        raise InvalidBars(report, label) from exc

    header = [str(column) for column in table.columns]
    time_index = _find_column(header, TIME_ALIASES)
    if time_index is None and header and (header[0] == "" or header[0].startswith("Unnamed")):
        time_index = 0
    indexes = {name: _find_column(header, aliases) for name, aliases in COLUMN_ALIASES.items()}
    if time_index is None:
        report.add(1, "header", f"no timestamp column (one of {', '.join(TIME_ALIASES)})")
    for column_name in ("open", "high", "low", "close"):
        if indexes[column_name] is None:
            report.add(1, "header", f"missing column '{column_name}'")
    if not report.ok:
        raise InvalidBars(report, label)

    blank = (table == "").all(axis=1).to_numpy()
    table = table.loc[~blank]
    lines = (np.flatnonzero(~blank) + 2).astype(np.int64)
    if len(table) == 0:
        report.add(None, "file", "no data rows")
        raise InvalidBars(report, label)

    assert time_index is not None
    ts, bad_ts = _parse_timestamps(table.iloc[:, time_index])
    for index in np.flatnonzero(bad_ts):
        value = table.iloc[int(index), time_index]
        report.add(int(lines[index]), "timestamp", f"cannot parse {value!r} as a timestamp")

    unparsed = bad_ts.copy()

    def numbers(column_name: str) -> FloatArray:
        position = indexes[column_name]
        if position is None:  # volume is optional (FX and index feeds often have none)
            return np.zeros(len(table), dtype=np.float64)
        cells = table.iloc[:, position]
        values = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64)
        # A cell that is not a number at all (as opposed to a literal 'nan'/'inf') gets its own
        # message; literal non-finite numbers are reported by validate_columns.
        for index in np.flatnonzero(np.isnan(values)):
            cell = str(cells.iloc[int(index)]).strip()
            if cell.lower() not in {"nan", "-nan", "+nan"}:
                problem = "is empty" if cell == "" else f"{cell!r} is not a number"
                report.add(int(lines[index]), column_name, problem)
                unparsed[index] = True
        return values

    open_, high, low, close, volume = (
        numbers(c) for c in ("open", "high", "low", "close", "volume")
    )
    # Rules run on the rows that parsed, so one pass reports every problem in the file.
    frame = BarFrame(ts, open_, high, low, close, volume)
    validate(frame.select(~unparsed), lines=lines[~unparsed], report=report)
    if not report.ok:
        report.sort()
        raise InvalidBars(report, label)
    return frame
