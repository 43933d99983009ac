"""Reference-data jobs (`fx.fetch_rates`, `economy.fetch_series`, `reports.fetch_financials`).

Each asks its provider chain for every configured subject and upserts what the chain answers
(rows the quality checks refused are already quarantined by the chain), so a rerun leaves the
same rows. Subjects are independent: one that fails does not hold back the others, and the run
ends by saying what failed:

* a provider failure (every provider of the chain failed or is open) raises a retryable error,
  so the runner tries the whole job again with backoff;
* every provider unreachable (connection refused, host not resolved: offline) fails the run at
  once, without retries, saying so ("ecb unreachable: ... (offline?)");
* a subject no provider has (an unknown series id, a company without filings) fails the run
  without retries (PermanentJobError): trying again cannot help;
* nothing configured (no subjects, or an empty chain) makes the run `skipped`, its result
  saying why (`JobResult.reason`).

Each subject is fetched before its write transaction opens: the fetch record has its own
transaction, which on SQLite would otherwise wait for ours.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from quantdesk.errors import AppError
from quantdesk.infra.cache import installed_cache
from quantdesk.jobs.registry import JobContext, PermanentJobError, task
from quantdesk.jobs.result import JobResult
from quantdesk.marketdata.job_runtime import (
    ProvidersUnavailable,
    joined,
    offline_detail,
    provider_runtime,
)
from quantdesk.marketdata.providers.base import (
    FundamentalsQuery,
    FundNavQuery,
    FxRatesQuery,
    SeriesQuery,
)
from quantdesk.marketdata.providers.chain import ProviderAnswer
from quantdesk.marketdata.providers.errors import NoProviderAnswered, ProviderSubjectNotFound
from quantdesk.marketdata.providers.registry import ProviderRuntime
from quantdesk.marketdata.reference.service import (
    fundamentals_service,
    fx_rate_service,
    series_service,
)
from quantdesk.marketdata.service import instrument_service
from quantdesk.models import AssetClass, SeriesKind
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.jobs")
INSTRUMENT_PAGE = 500


@dataclass
class Outcome:
    """What one run did: rows stored per subject (and by whom), or why not."""

    result: JobResult = field(default_factory=JobResult)
    failed: dict[str, str] = field(default_factory=dict)  # retryable
    missing: dict[str, str] = field(default_factory=dict)  # no provider has it
    offline: dict[str, str] = field(default_factory=dict)  # no provider could be reached

    def problem(self, subject: str, error: AppError) -> None:
        if isinstance(error, ProviderSubjectNotFound):
            self.missing[subject] = error.detail
            return
        offline = offline_detail(error) if isinstance(error, NoProviderAnswered) else None
        if offline is not None:
            self.offline[subject] = offline
        else:
            self.failed[subject] = error.detail

    def merge(self, part: Outcome, prefix: str) -> None:
        for subject, rows in part.result.written.items():
            self.result.wrote(prefix + subject, rows, provider=part.result.providers.get(subject))
        for problems, found in (
            (self.failed, part.failed),
            (self.missing, part.missing),
            (self.offline, part.offline),
        ):
            problems.update({prefix + subject: detail for subject, detail in found.items()})

    def finish(self) -> JobResult:
        """The run's result, or the error that ends it (after the good rows are stored)."""
        problems = {**self.missing, **self.offline, **self.failed}
        if not problems:
            return self.result
        if self.failed:
            raise ProvidersUnavailable(joined(problems), result=self.result)
        raise PermanentJobError(joined(problems), result=self.result)


async def _each(
    outcome: Outcome,
    subjects: list[str],
    fetch: Callable[[str], Awaitable[ProviderAnswer[Any]]],
    store: Callable[[str, ProviderAnswer[Any]], Awaitable[int]],
) -> None:
    for subject in subjects:
        try:
            answer = await fetch(subject)
        except AppError as error:  # the chain's verdict on this subject; the others go on
            outcome.problem(subject, error)
            continue
        outcome.result.wrote(subject, await store(subject, answer), provider=answer.provider)


@task("fx.fetch_rates")
async def fetch_fx_rates(ctx: JobContext) -> JobResult:
    """Every rate the fx_rates chain publishes for each base in `jobs_fx_bases`."""
    settings = ctx.settings
    if not settings.jobs_fx_bases:
        return JobResult.nothing_to_do("no base currencies (QUANTDESK_JOBS_FX_BASES is empty)")
    if not settings.providers_fx_rates:
        return JobResult.nothing_to_do(
            "no fx_rates provider chain (QUANTDESK_PROVIDERS_FX_RATES is empty)"
        )
    outcome = Outcome()
    async with provider_runtime(ctx) as runtime:

        async def store(base: str, answer: ProviderAnswer[Any]) -> int:
            async with ctx.db.session() as session:
                return await fx_rate_service.store(
                    session,
                    rates=answer.value,
                    provider=answer.provider,
                    fetched_at=answer.fetched_at,
                )

        await _each(
            outcome,
            list(settings.jobs_fx_bases),
            lambda base: runtime.fetch(FxRatesQuery(base)),
            store,
        )
    written = outcome.result
    log.info("fx rates fetched", bases=len(written.written), rates=written.rows_written)
    return outcome.finish()


async def _fetch_series(
    ctx: JobContext, runtime: ProviderRuntime, kind: SeriesKind, ids: list[str]
) -> Outcome:
    outcome = Outcome()

    def fetch(series_id: str) -> Awaitable[ProviderAnswer[Any]]:
        if kind is SeriesKind.FUND_NAV:
            return runtime.fetch(FundNavQuery(series_id))
        return runtime.fetch(SeriesQuery(series_id))

    async def store(series_id: str, answer: ProviderAnswer[Any]) -> int:
        async with ctx.db.session() as session:
            return await series_service.store(
                session,
                kind=kind,
                series=answer.value,
                provider=answer.provider,
                fetched_at=answer.fetched_at,
            )

    await _each(outcome, ids, fetch, store)
    return outcome


@task("economy.fetch_series")
async def fetch_economic_series(ctx: JobContext) -> JobResult:
    """Each series in `jobs_economic_series` (economic_series chain) and each fund in
    `jobs_fund_navs` (fund_navs chain), full history: revised values replace stored ones."""
    settings = ctx.settings
    wanted = {
        SeriesKind.ECONOMIC: (
            list(settings.jobs_economic_series),
            settings.providers_economic_series,
            "QUANTDESK_PROVIDERS_ECONOMIC_SERIES",
        ),
        SeriesKind.FUND_NAV: (
            list(settings.jobs_fund_navs),
            settings.providers_fund_navs,
            "QUANTDESK_PROVIDERS_FUND_NAVS",
        ),
    }
    runnable = {kind: ids for kind, (ids, chain, _) in wanted.items() if ids and chain}
    outcome = Outcome()
    for kind, (ids, chain, setting) in wanted.items():
        prefix = "fund:" if kind is SeriesKind.FUND_NAV else ""
        if ids and not chain:
            for series_id in ids:
                outcome.result.skip(prefix + series_id, f"no provider chain ({setting} is empty)")
    if not runnable:
        if not outcome.result.skipped:
            outcome.result.reason = (
                "no series configured (QUANTDESK_JOBS_ECONOMIC_SERIES and "
                "QUANTDESK_JOBS_FUND_NAVS are empty)"
            )
        return outcome.result
    async with provider_runtime(ctx) as runtime:
        for kind, ids in runnable.items():
            part = await _fetch_series(ctx, runtime, kind, ids)
            outcome.merge(part, "fund:" if kind is SeriesKind.FUND_NAV else "")
    written = outcome.result
    log.info("series fetched", series=len(written.written), rows=written.rows_written)
    return outcome.finish()


async def _active_equities(ctx: JobContext) -> list[str]:
    symbols: list[str] = []
    cursor: str | None = None
    while True:
        async with ctx.db.session() as session:
            page, cursor = await instrument_service.search(
                session, asset_class=AssetClass.EQUITY, cursor=cursor, limit=INSTRUMENT_PAGE
            )
        symbols.extend(instrument.symbol for instrument in page if instrument.active)
        if cursor is None:
            return symbols


@task("reports.fetch_financials")
async def fetch_financials(ctx: JobContext) -> JobResult:
    """The latest reported fundamentals of every active equity (fundamentals chain); a new
    snapshot drops the serving app's cached copy once stored."""
    if not ctx.settings.providers_fundamentals:
        return JobResult.nothing_to_do(
            "no fundamentals provider chain (QUANTDESK_PROVIDERS_FUNDAMENTALS is empty)"
        )
    symbols = await _active_equities(ctx)
    if not symbols:
        return JobResult.nothing_to_do("no active equity instruments")
    # The serving app's cache (in-process runner) or the Celery worker's (Redis: the API's).
    cache = installed_cache()
    outcome = Outcome()
    async with provider_runtime(ctx) as runtime:

        async def store(symbol: str, answer: ProviderAnswer[Any]) -> int:
            async with ctx.db.session() as session:
                await fundamentals_service.store(
                    session,
                    fundamentals=answer.value,
                    provider=answer.provider,
                    fetched_at=answer.fetched_at,
                    cache=cache,
                )
            return len(answer.value.values)

        await _each(
            outcome, symbols, lambda symbol: runtime.fetch(FundamentalsQuery(symbol)), store
        )
    log.info(
        "fundamentals fetched", symbols=len(outcome.result.written), failed=len(outcome.failed)
    )
    return outcome.finish()
