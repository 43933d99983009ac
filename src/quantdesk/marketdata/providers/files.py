"""Bars and dated series from local CSV or Parquet files: the embedded default provider.

Layout, searched in each configured directory in order:

    {dir}/{SYMBOL}_{timeframe}.csv      e.g. GOOG_1d.csv, BTCUSD_1h.csv (or .parquet)
    {dir}/{SYMBOL}/{timeframe}.csv      e.g. GOOG/1d.csv
    {dir}/series/{ID}.csv               economic series and fund NAVs: a date and a value column
    {dir}/fundamentals/{SYMBOL}.json    fundamentals: one flat JSON object of name -> number or
                                        text; its `as_of` (a date) is the end of the reported
                                        period (default: the file's modification day)

Column names follow the ingest rules (quantdesk.marketdata.frames: timestamp/date/time, open,
high, low, close, volume; any case). With `include_demo`, the genuine series bundled with
backtesting.py (GOOG 1d, EURUSD 1h, BTCUSD 1M) answer when no file matches, so the demo needs
no network. Reading is lenient on purpose: bad rows reach the quality checks, which quarantine
them with a reason, instead of rejecting the whole file. Parquet needs pyarrow (the `parquet`
extra); without it a parquet provider reports itself as not configured.
"""

from __future__ import annotations

import asyncio
import math
from contextlib import ExitStack
from datetime import UTC, datetime
from importlib.resources import as_file, files
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from quantdesk.marketdata.frames import COLUMN_ALIASES, TIME_ALIASES, BarFrame
from quantdesk.marketdata.frames import _find_column as find_column
from quantdesk.marketdata.frames import _parse_timestamps as parse_timestamps
from quantdesk.marketdata.providers.base import (
    BarsQuery,
    DataKind,
    Fundamentals,
    FundamentalsQuery,
    FundNavQuery,
    Series,
    SeriesQuery,
)
from quantdesk.marketdata.providers.errors import (
    MalformedResponse,
    ProviderDataNotFound,
    ProviderNotConfigured,
)
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.providers")
FORMATS = ("csv", "parquet")


def _demo_resource(symbol: str, timeframe: str) -> str | None:
    from quantdesk.marketdata.demo import DEMO_PACKAGE, DEMO_SERIES

    for series in DEMO_SERIES:
        if series.instrument.symbol == symbol and series.timeframe.value == timeframe:
            return f"{DEMO_PACKAGE}:{series.resource}"
    return None


def _read_table(path: Path, file_format: str) -> pd.DataFrame:
    if file_format == "parquet":
        try:
            table = pd.read_parquet(path)
        except ImportError as exc:
            raise ProviderNotConfigured(
                "reading parquet needs pyarrow: pip install 'quantdesk[parquet]'"
            ) from exc
        # A DatetimeIndex (pandas' to_parquet of a time-indexed frame) becomes a column.
        if isinstance(table.index, pd.DatetimeIndex):
            table = table.reset_index(names="timestamp")
        return table.astype(str)
    return pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=True)


def _numbers(table: pd.DataFrame, position: int | None) -> np.ndarray:
    if position is None:
        return np.zeros(len(table), dtype=np.float64)
    return pd.to_numeric(table.iloc[:, position], errors="coerce").to_numpy(dtype=np.float64)


def parse_bars(table: pd.DataFrame, *, source: str) -> BarFrame:
    header = [str(column) for column in table.columns]
    time_index = find_column(header, TIME_ALIASES)
    if time_index is None and header and (header[0] == "" or header[0].startswith("Unnamed")):
        time_index = 0
    positions = {name: find_column(header, aliases) for name, aliases in COLUMN_ALIASES.items()}
    missing = [name for name in ("open", "high", "low", "close") if positions[name] is None]
    if time_index is None or missing:
        raise MalformedResponse(
            f"{source}: no timestamp column or missing {', '.join(missing) or 'columns'}"
        )
    ts, bad = parse_timestamps(table.iloc[:, time_index])
    if bad.any():
        # Without a time a row cannot be placed, quarantined or stored: say so and skip it.
        log.warning("providers.file_rows_skipped", source=source, rows=int(bad.sum()))
    good = ~bad
    columns = [_numbers(table, positions[name])[good] for name in COLUMN_ALIASES]
    return BarFrame.from_columns((ts[good], *columns))


def parse_series(table: pd.DataFrame, *, series_id: str, source: str) -> Series:
    header = [str(column) for column in table.columns]
    time_index = find_column(header, TIME_ALIASES)
    value_index = find_column(header, ("value", "nav", "close"))
    if time_index is None:
        time_index = 0
    if value_index is None:
        value_index = 1 if len(header) > 1 else None
    if value_index is None:
        raise MalformedResponse(f"{source}: needs a date and a value column")
    ts, bad = parse_timestamps(table.iloc[:, time_index])
    values = _numbers(table, value_index)
    return Series(series_id, ts[~bad], values[~bad])


class FilesProvider:
    def __init__(
        self,
        name: str,
        directories: list[Path],
        *,
        file_format: str = "csv",
        include_demo: bool = False,
    ) -> None:
        if file_format not in FORMATS:
            raise ValueError(f"file format must be one of {FORMATS}")
        self.name = name
        self.directories = directories
        self.file_format = file_format
        self.include_demo = include_demo and file_format == "csv"
        self.kinds = frozenset(
            {
                DataKind.BARS,
                DataKind.ECONOMIC_SERIES,
                DataKind.FUND_NAVS,
                DataKind.FUNDAMENTALS,
            }
        )

    def _find(self, candidates: list[str]) -> Path | None:
        for directory in self.directories:
            root = directory.resolve()
            for candidate in candidates:
                path = (root / candidate).resolve()
                # Symbols never contain a slash, but a file name must not leave its root.
                if path.is_relative_to(root) and path.is_file():
                    return path
        return None

    async def _load(self, path: Path) -> pd.DataFrame:
        try:
            return await asyncio.to_thread(_read_table, path, self.file_format)
        except (ValueError, OSError, pd.errors.ParserError) as exc:
            raise MalformedResponse(f"{path.name}: not a readable {self.file_format} file") from exc

    async def fetch_bars(self, query: BarsQuery) -> BarFrame:
        ext = self.file_format
        symbol, timeframe = query.symbol.upper(), query.timeframe.value
        path = self._find([f"{symbol}_{timeframe}.{ext}", f"{symbol}/{timeframe}.{ext}"])
        if path is not None:
            frame = parse_bars(await self._load(path), source=path.name)
        elif self.include_demo and (resource := _demo_resource(symbol, timeframe)):
            package, _, filename = resource.partition(":")
            with ExitStack() as stack:
                demo_path = stack.enter_context(as_file(files(package) / filename))
                frame = parse_bars(await self._load(demo_path), source=filename)
        else:
            raise ProviderDataNotFound(f"{self.name}: no {timeframe} file for {symbol}")
        keep = np.ones(len(frame), dtype=bool)
        if query.start is not None:
            keep &= frame.ts >= query.start
        if query.end is not None:
            keep &= frame.ts <= query.end
        return frame.select(keep)

    async def _series(self, series_id: str, start: int | None, end: int | None) -> Series:
        ext = self.file_format
        path = self._find([f"series/{series_id}.{ext}", f"series/{series_id.upper()}.{ext}"])
        if path is None:
            raise ProviderDataNotFound(f"{self.name}: no series file for {series_id}")
        series = parse_series(await self._load(path), series_id=series_id, source=path.name)
        keep = np.ones(len(series), dtype=bool)
        if start is not None:
            keep &= series.ts >= start
        if end is not None:
            keep &= series.ts <= end
        return series.select(keep)

    async def fetch_series(self, query: SeriesQuery) -> Series:
        return await self._series(query.series_id, query.start, query.end)

    async def fetch_fund_navs(self, query: FundNavQuery) -> Series:
        return await self._series(query.fund, query.start, query.end)

    async def fetch_fundamentals(self, query: FundamentalsQuery) -> Fundamentals:
        symbol = query.symbol.upper()
        path = self._find([f"fundamentals/{symbol}.json"])
        if path is None:
            raise ProviderDataNotFound(f"{self.name}: no fundamentals file for {symbol}")
        try:
            raw, modified = await asyncio.to_thread(_read_json, path)
        except (OSError, orjson.JSONDecodeError) as exc:
            raise MalformedResponse(f"{path.name}: not a readable JSON file") from exc
        return parse_fundamentals(raw, symbol=symbol, source=path.name, modified=modified)

    async def aclose(self) -> None:
        return None


def _read_json(path: Path) -> tuple[object, float]:
    return orjson.loads(path.read_bytes()), path.stat().st_mtime


def parse_fundamentals(raw: object, *, symbol: str, source: str, modified: float) -> Fundamentals:
    if not isinstance(raw, dict):
        raise MalformedResponse(f"{source}: needs one JSON object of name -> value")
    as_of = raw.get("as_of")
    try:
        if as_of is None:
            moment = datetime.fromtimestamp(modified, UTC)
        else:
            moment = datetime.fromisoformat(str(as_of))
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    except ValueError:
        raise MalformedResponse(f"{source}: as_of {as_of!r} is not an ISO date") from None
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    values: dict[str, float | str | None] = {}
    for name, value in raw.items():
        if name == "as_of":
            continue
        if isinstance(value, bool | dict | list):
            raise MalformedResponse(f"{source}: {name!r} is not a number or text (flat object)")
        if isinstance(value, int | float):
            values[name] = float(value) if math.isfinite(value) else None
        else:
            values[name] = value
    return Fundamentals(symbol=symbol, as_of=int(day.timestamp()), values=values)
