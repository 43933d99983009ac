"""The jobs quantdesk runs on its schedule. Each is idempotent: running one twice (a retry, a
redelivery after a lost worker) leaves the same rows as running it once.

`marketdata.fetch_bars` keeps every stored series up to date through the bars provider chain
(`providers_bars`; by default the files provider, which also serves the bundled demo series),
with the runtime every market-data job builds (`quantdesk.marketdata.tasks.provider_runtime`).
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.errors import AppError
from quantdesk.infra.cache import installed_cache
from quantdesk.jobs.registry import JobContext, PermanentJobError, get_task, task
from quantdesk.jobs.service import job_run_service
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.providers import BarsQuery, Calendar, DataKind
from quantdesk.marketdata.providers.errors import NoProviderAnswered
from quantdesk.marketdata.service import bar_service, instrument_service
from quantdesk.marketdata.tasks import ProvidersUnavailable, provider_runtime
from quantdesk.models import AssetClass, Instrument
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.jobs")
SIGNALS_SERVICE = "quantdesk.signals.service"
INSTRUMENT_PAGE = 500


@task("maintenance.cleanup")
async def cleanup(ctx: JobContext) -> dict[str, int]:
    """Delete job runs, provider fetches, quarantined rows and alert events past retention."""
    settings = ctx.settings
    async with ctx.db.session() as session:
        deleted = await job_run_service.purge(
            session,
            job_runs_days=settings.job_run_retention_days,
            provider_fetches_days=settings.provider_fetch_retention_days,
            quarantine_days=settings.quarantine_retention_days,
            alert_events_days=settings.alert_event_retention_days,
        )
    log.info("cleanup done", **deleted)
    return deleted


# --------------------------------------------------------------------------- bars


@dataclass(frozen=True)
class StoredSeries:
    """One (instrument, timeframe) with bars stored: what `fetch_bars` keeps up to date."""

    symbol: str
    timeframe: Timeframe
    last_ts: int
    calendar: Calendar

    @property
    def key(self) -> str:
        return f"{self.symbol}:{self.timeframe.value}"


def _calendar(instrument: Instrument, timeframe: Timeframe) -> Calendar:
    """When bars are expected, for the chain's gap and staleness checks."""
    if instrument.asset_class is AssetClass.CRYPTO:
        return Calendar.ALWAYS
    if instrument.asset_class is AssetClass.FX or timeframe.seconds >= Timeframe.D1.seconds:
        return Calendar.WEEKDAYS
    return Calendar.SESSIONS


async def _stored_series(ctx: JobContext) -> list[StoredSeries]:
    """Every timeframe each active instrument has bars in, read in one short unit of work
    that ends before any provider call (with SQLite, the chain's fetch records must not wait
    behind a transaction this job holds open)."""
    found: list[StoredSeries] = []
    cursor: str | None = None
    async with ctx.db.session() as session:
        while True:
            page, cursor = await instrument_service.search(
                session, cursor=cursor, limit=INSTRUMENT_PAGE
            )
            for instrument in page:
                if not instrument.active:
                    continue
                for stored in await instrument_service.coverage(session, instrument):
                    found.append(
                        StoredSeries(
                            instrument.symbol,
                            stored.timeframe,
                            stored.last_ts,
                            _calendar(instrument, stored.timeframe),
                        )
                    )
            if cursor is None:
                return found


@task("marketdata.fetch_bars")
async def fetch_bars(ctx: JobContext) -> dict[str, Any]:
    """Fetch, through the bars provider chain, the bars newer than the last stored one of every
    stored series of every active instrument; store them, then start `signals.generate` for
    the series that grew.

    One unit of work per series: a series the chain cannot serve is listed in the run's error
    and does not hold back the others. The run fails when any series failed; it is retried
    when one failed because no provider answered (`ProvidersUnavailable`), and fails at once
    when retrying cannot help (no provider has the series, its bars cannot be stored)."""
    written: dict[str, int] = {}
    problems: list[str] = []
    unavailable = False
    async with provider_runtime(ctx) as runtime:
        if not runtime.chain(DataKind.BARS).names:
            log.info("bars not fetched: QUANTDESK_PROVIDERS_BARS is empty")
            return {"skipped": "no bars provider configured", "new_rows": 0, "series": {}}
        for item in await _stored_series(ctx):
            query = BarsQuery(
                item.symbol, item.timeframe, start=item.last_ts + 1, calendar=item.calendar
            )
            try:
                answer = await runtime.fetch(query)
            except NoProviderAnswered as error:
                unavailable = True
                problems.append(f"{item.key}: {error.detail}")
                continue
            except AppError as error:  # no provider has it, or none is configured
                problems.append(f"{item.key}: {error.detail}")
                continue
            try:
                async with ctx.db.session() as session:
                    written[item.key] = await _store_new_bars(session, item, answer.value)
            except AppError as error:
                problems.append(f"{item.key}: {error.detail}")
    new_rows = sum(written.values())
    log.info("bars fetched", series=len(written), new_rows=new_rows, problems=len(problems))
    if ctx.settings.jobs_signals_after_bars and _registered("signals.generate"):
        for timeframe, symbols in sorted(_fresh_series(written).items()):
            await ctx.enqueue("signals.generate", symbols=symbols, timeframe=timeframe)
    if problems:
        # The good series are stored either way; the run says which were not.
        message = "; ".join(problems)
        raise ProvidersUnavailable(message) if unavailable else PermanentJobError(message)
    return {"new_rows": new_rows, "series": written}


async def _store_new_bars(session: AsyncSession, item: StoredSeries, frame: BarFrame) -> int:
    # Coverage again, inside the write's transaction: a run that overlapped this one (a retry,
    # a redelivery) may have stored some of these bars since the series was listed.
    instrument = await instrument_service.get(session, item.symbol)
    coverage = {c.timeframe: c for c in await instrument_service.coverage(session, instrument)}
    stored = coverage.get(item.timeframe)
    if stored is not None:  # ts is strictly increasing: everything after the last stored bar
        frame = frame.slice(int(np.searchsorted(frame.ts, stored.last_ts, "right")), len(frame))
    if len(frame) == 0:
        return 0
    # The installed cache (the serving app's, or the Celery attempt's) drops the symbol's
    # cached quotes, bars, indicators and signals once this commits.
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
