"""Market-data jobs (registered by import, `quantdesk.tasks`):
`marketdata.fetch_quotes` and `marketdata.fetch_bars`. Each is idempotent: running one twice (a
retry, a redelivery after a lost worker) leaves the same rows as running it once. Both read
through the provider chains on the runtime `job_runtime.provider_runtime(ctx)` gives them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.errors import AppError
from quantdesk.infra.cache import CacheCategory, installed_cache, symbol_tag
from quantdesk.infra.events import EventBus
from quantdesk.jobs.registry import JobContext, PermanentJobError, get_task, task
from quantdesk.jobs.result import JobResult
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.job_runtime import (
    ProvidersUnavailable,
    active_symbols,
    job_event_bus,
    joined,
    offline_detail,
    provider_runtime,
)
from quantdesk.marketdata.providers import BarsQuery, Calendar, DataKind
from quantdesk.marketdata.providers.errors import NoProviderAnswered, ProviderSubjectNotFound
from quantdesk.marketdata.quote_service import quote_service
from quantdesk.marketdata.service import bar_service, instrument_service, period_starts
from quantdesk.models import AssetClass, Instrument
from quantdesk.observability.logging import get_logger

__all__ = ["ProvidersUnavailable", "fetch_bars", "fetch_quotes"]

log = get_logger("quantdesk.jobs")
INSTRUMENT_PAGE = 500


@task("marketdata.fetch_quotes")
async def fetch_quotes(ctx: JobContext) -> JobResult:
    """Fetch every active instrument's quote through the quotes chain, store it and drop the
    serving app's cached copy. Idempotent: a rerun stores the then-latest quotes. A symbol
    no provider has is skipped; the run fails when no quote came through at all."""
    if not ctx.settings.providers_quotes:
        return JobResult.nothing_to_do(
            "no quotes provider chain (QUANTDESK_PROVIDERS_QUOTES is empty)"
        )
    symbols = await active_symbols(ctx.db)
    if not symbols:
        return JobResult.nothing_to_do("no active instruments")
    cache = installed_cache()  # None outside the serving process (a Celery worker)
    result = JobResult()
    failed: dict[str, str] = {}
    offline: dict[str, str] = {}
    async with provider_runtime(ctx) as runtime, job_event_bus(ctx) as events:
        for symbol in symbols:
            try:
                # One symbol at a time: the provider budget spaces the calls anyway.
                answer = await quote_service.refresh(ctx.db, runtime, symbol, events=events)
            except ProviderSubjectNotFound as error:
                result.skip(symbol, error.detail)
                continue
            except NoProviderAnswered as error:
                detail = offline_detail(error)
                (offline if detail else failed)[symbol] = detail or error.detail
                continue
            except AppError as error:  # the chain failed for this symbol; the others go on
                failed[symbol] = error.detail
                continue
            result.wrote(symbol, 1, provider=answer["meta"]["provider"])
            if cache is not None:
                await cache.invalidate_tag(symbol_tag(CacheCategory.QUOTES, symbol))
    log.info("quotes fetched", updated=len(result.written), failed=len(failed) + len(offline))
    problems = {**offline, **failed}
    if problems and not result.written:
        # Nothing came through (the providers are down or unreachable): a failed run, retried
        # by the next scheduled one rather than by retries piling onto a failing provider.
        raise PermanentJobError(joined(dict(sorted(problems.items()))), result=result)
    for symbol, detail in sorted(problems.items()):
        result.skip(symbol, f"not fetched: {detail}")
    return result


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
async def fetch_bars(ctx: JobContext) -> JobResult:
    """Fetch, through the bars provider chain, the bars newer than the last stored one of every
    stored series of every active instrument; store them, then start `signals.generate` for
    the series that grew.

    One unit of work per series. A series no provider has (a symbol loaded from a CSV file
    that no configured provider serves) is skipped, with the reason in the run's result. A
    series the chain cannot serve now is listed in the run's error and does not hold back the
    others: the run fails, and is retried when a provider did not answer
    (`ProvidersUnavailable`), not when retrying cannot help (every provider unreachable, the
    bars cannot be stored)."""
    result = JobResult()
    failed: dict[str, str] = {}  # worth a retry
    permanent: dict[str, str] = {}
    async with provider_runtime(ctx) as runtime, job_event_bus(ctx) as events:
        if not runtime.chain(DataKind.BARS).names:
            log.info("bars not fetched: QUANTDESK_PROVIDERS_BARS is empty")
            return JobResult.nothing_to_do(
                "no bars provider chain (QUANTDESK_PROVIDERS_BARS is empty)"
            )
        series = await _stored_series(ctx)
        if not series:
            return JobResult.nothing_to_do("no active instrument has bars stored")
        for item in series:
            query = BarsQuery(
                item.symbol, item.timeframe, start=item.last_ts + 1, calendar=item.calendar
            )
            try:
                answer = await runtime.fetch(query)
            except ProviderSubjectNotFound as error:
                result.skip(item.key, error.detail)
                continue
            except NoProviderAnswered as error:
                offline = offline_detail(error)
                if offline is not None:
                    permanent[item.key] = offline
                else:
                    failed[item.key] = error.detail
                continue
            except AppError as error:  # no provider is configured
                permanent[item.key] = error.detail
                continue
            try:
                async with ctx.db.session() as session:
                    rows = await _store_new_bars(session, item, answer.value, events)
            except AppError as error:
                permanent[item.key] = error.detail
                continue
            result.wrote(item.key, rows, provider=answer.provider)
    log.info(
        "bars fetched",
        series=len(result.written),
        new_rows=result.rows_written,
        skipped=len(result.skipped),
        problems=len(failed) + len(permanent),
    )
    if ctx.settings.jobs_signals_after_bars and _registered("signals.generate"):
        for timeframe, symbols in sorted(_fresh_series(result.written).items()):
            await ctx.enqueue("signals.generate", symbols=symbols, timeframe=timeframe)
    if failed or permanent:
        # The good series are stored either way; the run says which were not.
        message = joined({**permanent, **failed})
        if failed:
            raise ProvidersUnavailable(message, result=result)
        raise PermanentJobError(message, result=result)
    return result


async def _store_new_bars(
    session: AsyncSession, item: StoredSeries, frame: BarFrame, events: EventBus
) -> int:
    # Coverage again, inside the write's transaction: a run that overlapped this one (a retry,
    # a redelivery) may have stored some of these bars since the series was listed.
    instrument = await instrument_service.get(session, item.symbol)
    coverage = {c.timeframe: c for c in await instrument_service.coverage(session, instrument)}
    stored = coverage.get(item.timeframe)
    # Weekly and monthly bars are stored at their period's start: a provider stamping months
    # at their last day must not make the stored last month look new (ingest moves it too).
    frame = period_starts(frame, item.timeframe)
    if stored is not None:  # ts is strictly increasing: everything after the last stored bar
        frame = frame.slice(int(np.searchsorted(frame.ts, stored.last_ts, "right")), len(frame))
    if len(frame) == 0:
        return 0
    # The installed cache (the serving app's, or the Celery attempt's) drops the symbol's
    # cached quotes, bars, indicators and signals once this commits; the new closed bars are
    # published as live market events then (`live_events`).
    result = await bar_service.ingest(
        session,
        symbol=instrument.symbol,
        timeframe=item.timeframe,
        frame=frame,
        cache=installed_cache(),
        events=events,
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
