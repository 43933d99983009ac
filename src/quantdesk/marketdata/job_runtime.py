"""What every job that reads through the provider chains shares (market data in
`marketdata/tasks.py`, reference data in `marketdata/reference/tasks.py`).

A job runs on the provider runtime of its process: the serving app's when the in-process
runner runs it there with the app's settings (one set of breakers, budgets and health), else
one built from the job's settings (`provider_runtime(ctx)`): a Celery worker has no app whose
runtime it could borrow, and may serve another configuration. Breaker state and budgets are
shared with the API through Redis in distributed mode; every call is recorded in
`provider_fetches`, which GET /providers reads.

The event bus works the same way (`job_event_bus(ctx)`): the serving app's, installed by its
lifespan, else one built from the job's settings (a Celery worker: with the Redis backend its
events reach the API processes; with the memory backend they reach nobody) and closed when the
job ends, after the events its commits started have been published.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from quantdesk.config import ConfigError
from quantdesk.db import Database, after_commit_work_done
from quantdesk.infra.events import EventBus, build_event_bus, installed_event_bus
from quantdesk.infra.state import state_store_from_settings
from quantdesk.jobs.registry import JobContext, PermanentJobError
from quantdesk.jobs.result import JobFailure
from quantdesk.marketdata.providers.errors import NoProviderAnswered
from quantdesk.marketdata.providers.registry import (
    ProviderRuntime,
    build_provider_runtime,
    installed_provider_runtime,
)
from quantdesk.marketdata.service import instrument_service

PAGE = 500
MAX_ERROR_CHARS = 2_000


class ProvidersUnavailable(JobFailure):
    """Some subjects of a fetch job could not be fetched because no provider answered
    (timeouts, 5xx, open breakers): worth another attempt, unlike a subject no provider has
    (skipped) or a provider that cannot be reached at all (`PermanentJobError`). The job is
    idempotent, so the retry redoes the good ones harmlessly."""


def offline_detail(error: NoProviderAnswered) -> str | None:
    """ "ecb unreachable: host/path: connection refused (offline?)" when no provider of the
    chain could even be connected to; None otherwise."""
    if not error.offline:
        return None
    return "; ".join(f"{step['provider']} {step['error']}" for step in error.trace)


@asynccontextmanager
async def provider_runtime(ctx: JobContext) -> AsyncIterator[ProviderRuntime]:
    """The serving app's runtime when it runs on the job's settings, else one built from
    `ctx.settings` recording fetches in the job's database, closed when the block ends."""
    installed = installed_provider_runtime()
    if installed is not None and installed.settings is ctx.settings:
        yield installed
        return
    store = state_store_from_settings(ctx.settings)
    try:
        runtime = build_provider_runtime(ctx.settings, store, database=ctx.db)
    except ConfigError as error:
        await store.aclose()
        # The same settings fail the same way on every retry.
        raise PermanentJobError(str(error)) from error
    try:
        yield runtime
    finally:
        await runtime.aclose()
        await store.aclose()


@asynccontextmanager
async def job_event_bus(ctx: JobContext) -> AsyncIterator[EventBus]:
    """The serving app's event bus, else one built from `ctx.settings`, closed when the block
    ends (once the publishing its commits started is done)."""
    installed = installed_event_bus()
    if installed is not None:
        yield installed
        return
    try:
        bus = build_event_bus(ctx.settings)
    except ConfigError as error:
        raise PermanentJobError(str(error)) from error
    try:
        yield bus
    finally:
        await after_commit_work_done()
        await bus.aclose()


async def active_symbols(database: Database) -> list[str]:
    symbols: list[str] = []
    cursor: str | None = None
    while True:
        async with database.session() as session:
            page, cursor = await instrument_service.search(session, cursor=cursor, limit=PAGE)
        symbols.extend(instrument.symbol for instrument in page if instrument.active)
        if cursor is None:
            return symbols


def joined(problems: dict[str, str]) -> str:
    """One error message for a run's failed subjects."""
    text = "; ".join(f"{subject}: {detail}" for subject, detail in problems.items())
    return text[:MAX_ERROR_CHARS]
