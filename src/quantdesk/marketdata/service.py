"""Market-data services: the only entry point other domains and the endpoints use."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.db import after_commit_async
from quantdesk.errors import NotFound, Unprocessable, field_error
from quantdesk.infra.cache import Cache, new_bars_tags
from quantdesk.infra.events import EventBus
from quantdesk.kit.pagination import decode_cursor, split_page
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import from_epoch
from quantdesk.marketdata import frames
from quantdesk.marketdata.frames import BarFrame, InvalidBars
from quantdesk.marketdata.live_events import bar_events, new_closed_bars, publish_after_commit
from quantdesk.marketdata.repository import (
    BarRepository,
    InstrumentRepository,
    QuoteRepository,
    TimeframeCoverage,
)
from quantdesk.marketdata.resample import resample
from quantdesk.marketdata.schemas import InstrumentCreate
from quantdesk.models import AssetClass, Instrument, utcnow

INGEST_CHUNK_ROWS = 50_000


ProgressCallback = Callable[[int, int], None]  # (rows written so far, total rows)


class InstrumentNotFound(NotFound):
    code = "instrument-not-found"

    def __init__(self, symbol: str) -> None:
        super().__init__(f"no instrument with symbol {symbol!r}")


class BarsRejected(Unprocessable):
    code = "invalid-bars"

    def __init__(self, error: InvalidBars) -> None:
        super().__init__(
            str(error),
            errors=[
                {"line": e.line, "field": e.field, "msg": e.message, "type": "invalid_bar"}
                for e in error.report.errors
            ],
        )


@dataclass(frozen=True)
class IngestResult:
    symbol: str
    timeframe: Timeframe
    rows: int
    first_ts: int | None
    last_ts: int | None
    seconds: float


@dataclass(frozen=True)
class BarSeries:
    symbol: str
    timeframe: Timeframe
    source_timeframe: Timeframe
    bars: BarFrame
    asset_class: AssetClass = AssetClass.EQUITY

    @property
    def resampled(self) -> bool:
        return self.timeframe != self.source_timeframe


class InstrumentService:
    async def get(self, session: AsyncSession, symbol: str) -> Instrument:
        instrument = await InstrumentRepository(session).by_symbol(symbol.upper())
        if instrument is None:
            raise InstrumentNotFound(symbol)
        return instrument

    async def search(
        self,
        session: AsyncSession,
        *,
        asset_class: AssetClass | None = None,
        exchange: str | None = None,
        query: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> tuple[Sequence[Instrument], str | None]:
        after = str(decode_cursor(cursor)) if cursor else None
        rows = await InstrumentRepository(session).search(
            asset_class=asset_class,
            exchange=exchange,
            query=query,
            after_symbol=after,
            limit=limit + 1,
        )
        return split_page(rows, limit, lambda instrument: instrument.symbol)

    async def upsert(self, session: AsyncSession, data: InstrumentCreate) -> Instrument:
        return await InstrumentRepository(session).upsert(data.model_dump())

    async def coverage(
        self, session: AsyncSession, instrument: Instrument
    ) -> list[TimeframeCoverage]:
        return await BarRepository(session).coverage(instrument.id)


class BarService:
    async def ingest(
        self,
        session: AsyncSession,
        *,
        symbol: str,
        timeframe: Timeframe,
        frame: BarFrame,
        progress: ProgressCallback | None = None,
        cache: Cache | None = None,
        events: EventBus | None = None,
    ) -> IngestResult:
        """Write a validated frame for an existing instrument in the caller's transaction,
        then refresh its quote. Chunks exist only to report progress.

        Weekly and monthly bars are stamped at their period's start (Monday 00:00 UTC, the
        1st 00:00 UTC), as resampling labels them: a file stamping months at their last day
        is moved to the first (`period_starts`).

        With a `cache`, the symbol's cached quotes, bars, indicators and signals are dropped
        once the transaction commits (before, a concurrent reader could cache the old state
        again; after a rollback nothing changed).

        With `events`, the new or changed closed bars (at most the latest 500) are published
        as live market events once the transaction commits (`live_events`)."""
        started = time.perf_counter()
        instrument = await instrument_service.get(session, symbol)
        frame = period_starts(frame, timeframe)
        bars = BarRepository(session)
        if events is not None:
            fresh = await new_closed_bars(bars, instrument.id, timeframe, frame)
            publish_after_commit(session, events, bar_events(instrument.symbol, timeframe, fresh))
        total = len(frame)
        for offset in range(0, total, INGEST_CHUNK_ROWS):
            chunk = frame.slice(offset, offset + INGEST_CHUNK_ROWS)
            await bars.write(instrument.id, timeframe, chunk)
            if progress is not None:
                progress(offset + len(chunk), total)
        await refresh_quote_from_bars(session, instrument)
        if cache is not None:
            tags = new_bars_tags(instrument.symbol)
            after_commit_async(session, lambda: cache.invalidate_tags(tags))
        return IngestResult(
            symbol=instrument.symbol,
            timeframe=timeframe,
            rows=total,
            first_ts=int(frame.ts[0]) if total else None,
            last_ts=int(frame.ts[-1]) if total else None,
            seconds=time.perf_counter() - started,
        )

    async def ingest_csv(
        self,
        session: AsyncSession,
        path: str | Path,
        *,
        symbol: str,
        timeframe: Timeframe,
        progress: ProgressCallback | None = None,
        cache: Cache | None = None,
    ) -> IngestResult:
        """Parse, validate the whole file, then write it; a bad file raises BarsRejected and
        writes nothing."""
        await instrument_service.get(session, symbol)  # fail before parsing a large file
        try:
            frame = frames.read_csv(path)
        except InvalidBars as error:
            raise BarsRejected(error) from error
        return await self.ingest(
            session, symbol=symbol, timeframe=timeframe, frame=frame, progress=progress, cache=cache
        )

    async def get_bars(
        self,
        session: AsyncSession,
        *,
        symbol: str,
        timeframe: Timeframe | None,
        start: int | None,
        end: int | None,
        limit: int,
    ) -> BarSeries:
        """Stored bars, or bars resampled from the coarsest stored timeframe that tiles the one
        asked for. Without `start`, the most recent `limit` bars up to `end` are returned.
        Without a `timeframe`, the finest stored one (the same query that finds the source)."""
        instrument = await instrument_service.get(session, symbol)
        bars = BarRepository(session)
        stored = await bars.timeframes(instrument.id)
        if timeframe is None:
            if not stored:
                raise Unprocessable(
                    f"{instrument.symbol} has no bars stored",
                    errors=[field_error(["path", "symbol"], "has no bars")],
                )
            timeframe = stored[0]
        source = _pick_source(stored, timeframe)
        if source is None:
            names = ", ".join(tf.value for tf in stored) or "none"
            raise Unprocessable(
                f"{instrument.symbol} has no bars that build {timeframe.value} (stored: {names})",
                errors=[
                    field_error(["query", "timeframe"], f"not available for {instrument.symbol}")
                ],
            )
        newest = start is None
        if source == timeframe:
            stored_bars = await bars.read(
                instrument.id, source, start=start, end=end, limit=limit, newest=newest
            )
            return BarSeries(
                instrument.symbol, timeframe, source, stored_bars, instrument.asset_class
            )

        if start is not None:  # whole buckets only: widen start to its bucket's first second
            start = int(timeframe.bucket_starts(np.asarray([start], dtype=np.int64))[0])
        per_bucket = -(-timeframe.seconds // source.seconds)
        fetch = (limit + 1) * per_bucket
        fine = await bars.read(
            instrument.id, source, start=start, end=end, limit=fetch, newest=newest
        )
        out = resample(fine, timeframe)
        if newest:
            if len(fine) == fetch and len(out) > 0:
                out = out.slice(1, len(out))  # the oldest bucket may be cut by the fetch limit
            out = out.slice(max(0, len(out) - limit), len(out))
        else:
            out = out.slice(0, limit)
        return BarSeries(instrument.symbol, timeframe, source, out, instrument.asset_class)


def period_starts(frame: BarFrame, timeframe: Timeframe) -> BarFrame:
    """Weekly and monthly bars stamped at their period's start; other timeframes unchanged.
    Two bars of one period are refused (BarsRejected), as any duplicate timestamp is."""
    if not timeframe.is_calendar or len(frame) == 0:
        return frame
    starts = timeframe.bucket_starts(frame.ts)
    if np.array_equal(starts, frame.ts):
        return frame
    moved = BarFrame(starts, frame.open, frame.high, frame.low, frame.close, frame.volume)
    report = frames.validate(moved)
    if not report.ok:
        raise BarsRejected(InvalidBars(report, f"{timeframe.value} bars"))
    return moved


def _pick_source(stored: list[Timeframe], target: Timeframe) -> Timeframe | None:
    usable = [tf for tf in stored if target.can_resample_from(tf)]
    return max(usable, key=lambda tf: tf.seconds) if usable else None


async def refresh_quote_from_bars(session: AsyncSession, instrument: Instrument) -> None:
    """Derive the latest quote from the finest stored bars: price = last close, the day is
    the UTC calendar day of the last bar, change is against the close before that day."""
    bars = BarRepository(session)
    stored = await bars.timeframes(instrument.id)
    if not stored:
        return
    finest = stored[0]
    if finest.seconds < Timeframe.D1.seconds:
        last_ts = await bars.last_ts(instrument.id, finest)
        assert last_ts is not None
        day_start = last_ts - last_ts % 86_400
        day = await bars.read(
            instrument.id, finest, start=day_start, end=None, limit=1_440, newest=False
        )
        before = await bars.read(
            instrument.id, finest, start=None, end=day_start - 1, limit=1, newest=True
        )
    else:
        last_two = await bars.last_bars(instrument.id, finest, 2)
        day, before = (
            last_two.slice(len(last_two) - 1, len(last_two)),
            last_two.slice(0, len(last_two) - 1),
        )
    price = float(day.close[-1])
    previous_close = float(before.close[-1]) if len(before) else None
    change = price - previous_close if previous_close is not None else None
    values: dict[str, Any] = {
        "instrument_id": instrument.id,
        "price": price,
        "previous_close": previous_close,
        "change": change,
        "change_pct": (change / previous_close * 100.0)
        if change is not None and previous_close
        else None,
        "day_open": float(day.open[0]),
        "day_high": float(day.high.max()),
        "day_low": float(day.low.min()),
        "volume": float(day.volume.sum()),
        "as_of": from_epoch(int(day.ts[-1])),
        "source": f"bars:{finest.value}",
        "updated_at": utcnow(),
    }
    await QuoteRepository(session).upsert(values)


instrument_service = InstrumentService()
bar_service = BarService()
