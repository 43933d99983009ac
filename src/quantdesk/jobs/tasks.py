"""The jobs quantdesk runs on its schedule. Each is idempotent: running one twice (a retry, a
redelivery after a lost worker) leaves the same rows as running it once.

`marketdata.fetch_bars` reads from `bar_source`, a small function that is meant to be swapped
for the provider chain: it yields the bars it has for each (symbol, timeframe).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.config import Settings
from quantdesk.errors import AppError
from quantdesk.infra.cache import installed_cache
from quantdesk.jobs.registry import JobContext, PermanentJobError, get_task, task
from quantdesk.jobs.service import job_run_service
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata import frames
from quantdesk.marketdata.frames import BarFrame, InvalidBars
from quantdesk.marketdata.service import InstrumentNotFound, bar_service, instrument_service
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.jobs")
SIGNALS_SERVICE = "quantdesk.signals.service"


@task("maintenance.cleanup")
async def cleanup(ctx: JobContext) -> dict[str, int]:
    """Delete job runs, provider fetches and quarantined rows past their retention."""
    settings = ctx.settings
    async with ctx.db.session() as session:
        deleted = await job_run_service.purge(
            session,
            job_runs_days=settings.job_run_retention_days,
            provider_fetches_days=settings.provider_fetch_retention_days,
            quarantine_days=settings.quarantine_retention_days,
        )
    log.info("cleanup done", **deleted)
    return deleted


# --------------------------------------------------------------------------- bars


@dataclass(frozen=True)
class FetchedBars:
    symbol: str
    timeframe: Timeframe
    bars: BarFrame


class SourceError(Exception):
    """One input of the source could not be read; the others still are."""


def csv_directory_source(settings: Settings) -> Iterator[FetchedBars | SourceError]:
    """Files named SYMBOL_TIMEFRAME.csv (e.g. GOOG_1d.csv) in `jobs_bars_source_dir`."""
    folder = settings.jobs_bars_source_dir
    if folder is None or not folder.is_dir():
        return
    for path in sorted(folder.glob("*.csv")):
        symbol, _, timeframe = path.stem.rpartition("_")
        try:
            parsed = Timeframe(timeframe)
        except ValueError:
            yield SourceError(f"{path.name}: name it SYMBOL_TIMEFRAME.csv (e.g. GOOG_1d.csv)")
            continue
        try:
            yield FetchedBars(symbol.upper(), parsed, frames.read_csv(path))
        except InvalidBars as error:
            yield SourceError(str(error))


# Swap for the provider chain: any callable from Settings to FetchedBars (or SourceError).
bar_source = csv_directory_source


@task("marketdata.fetch_bars")
async def fetch_bars(ctx: JobContext) -> dict[str, Any]:
    """Store the bars newer than what is stored for each series the source has, then start
    `signals.generate` when anything new arrived."""
    fetched = await ctx.to_thread(lambda: list(bar_source(ctx.settings)))
    written: dict[str, int] = {}
    problems: list[str] = []
    for item in fetched:
        if isinstance(item, SourceError):
            problems.append(str(item))
            continue
        key = f"{item.symbol}:{item.timeframe.value}"
        try:
            # One unit of work per series: a bad series does not hold back the others.
            async with ctx.db.session() as session:
                written[key] = await _store_new_bars(session, item)
        except InstrumentNotFound:
            problems.append(f"{key}: unknown instrument (add it first)")
        except AppError as error:
            problems.append(f"{key}: {error.detail}")
    new_rows = sum(written.values())
    log.info("bars fetched", series=len(written), new_rows=new_rows, problems=len(problems))
    if ctx.settings.jobs_signals_after_bars and _registered("signals.generate"):
        for timeframe, symbols in sorted(_fresh_series(written).items()):
            await ctx.enqueue("signals.generate", symbols=symbols, timeframe=timeframe)
    if problems:
        # Retrying cannot fix a file; the good series are stored, the run says what was not.
        raise PermanentJobError("; ".join(problems))
    return {"new_rows": new_rows, "series": written}


async def _store_new_bars(session: AsyncSession, item: FetchedBars) -> int:
    instrument = await instrument_service.get(session, item.symbol)
    coverage = {c.timeframe: c for c in await instrument_service.coverage(session, instrument)}
    stored = coverage.get(item.timeframe)
    frame = item.bars
    if stored is not None:  # ts is strictly increasing: everything after the last stored bar
        frame = frame.slice(int(np.searchsorted(frame.ts, stored.last_ts, "right")), len(frame))
    if len(frame) == 0:
        return 0
    # The serving app's cache (in-process runner) drops the symbol's cached quotes, bars,
    # indicators and signals once this commits.
    result = await bar_service.ingest(
        session,
        symbol=instrument.symbol,
        timeframe=item.timeframe,
        frame=frame,
        cache=installed_cache(),
    )
    return result.rows


def _fresh_series(written: dict[str, int]) -> dict[str, list[str]]:
    """Timeframe -> symbols that got new bars ("SYMBOL:TIMEFRAME" keys)."""
    fresh: dict[str, list[str]] = {}
    for key, rows in written.items():
        if rows:
            symbol, _, timeframe = key.rpartition(":")
            fresh.setdefault(timeframe, []).append(symbol)
    return fresh


def _registered(name: str) -> bool:
    try:
        get_task(name)
    except AppError:
        return False
    return True


# --------------------------------------------------------------------------- signals
# The signals domain may not be installed; its jobs exist only when its service does.


def _signals_available() -> bool:
    try:
        return importlib.util.find_spec(SIGNALS_SERVICE) is not None
    except ModuleNotFoundError:
        return False


async def _signal_service_call(ctx: JobContext, method: str, **kwargs: Any) -> Any:
    service = importlib.import_module(SIGNALS_SERVICE).signal_service
    async with ctx.db.session() as session:
        # The job's settings, not the process-wide ones: a worker may serve another config.
        result = await getattr(service, method)(session, settings=ctx.settings, **kwargs)
    return _jsonable(result)


def _jsonable(value: Any) -> Any:
    """Celery stores results as JSON: keep plain values, describe anything else."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return {"count": len(value)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)[:200]


if _signals_available():

    @task("signals.generate")
    async def generate_signals(
        ctx: JobContext, *, symbols: list[str] | None = None, timeframe: str = "1d"
    ) -> Any:
        """Signals on the last closed bar of `symbols` (default: every active instrument)."""
        try:
            parsed = Timeframe(timeframe)
        except ValueError as error:
            raise PermanentJobError(f"unknown timeframe {timeframe!r}") from error
        return await _signal_service_call(ctx, "generate", symbols=symbols, timeframe=parsed)

    @task("signals.evaluate")
    async def evaluate_signals(ctx: JobContext) -> Any:
        return await _signal_service_call(ctx, "evaluate")
