"""Market-data jobs that read through the provider chains (registered by import).

A job builds its own provider runtime from the job's settings (`provider_runtime(ctx)`): a
Celery worker has no app whose runtime it could borrow, and may serve another configuration.
Breaker state and budgets are shared with the API through Redis in distributed mode.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from quantdesk.config import ConfigError
from quantdesk.db import Database
from quantdesk.errors import AppError
from quantdesk.infra.cache import CacheCategory, installed_cache, symbol_tag
from quantdesk.infra.state import state_store_from_settings
from quantdesk.jobs.registry import JobContext, PermanentJobError, task
from quantdesk.marketdata.providers.registry import ProviderRuntime, build_provider_runtime
from quantdesk.marketdata.quote_service import quote_service
from quantdesk.marketdata.service import instrument_service
from quantdesk.observability.logging import get_logger

__all__ = ["ProvidersUnavailable", "fetch_quotes", "provider_runtime"]

log = get_logger("quantdesk.jobs")
PAGE = 500


class ProvidersUnavailable(Exception):
    """Some subjects of a fetch job could not be fetched because no provider answered
    (timeouts, 5xx, open breakers): worth another attempt, unlike a subject no provider has
    (`PermanentJobError`). The job is idempotent, so the retry redoes the good ones harmlessly."""


@asynccontextmanager
async def provider_runtime(ctx: JobContext) -> AsyncIterator[ProviderRuntime]:
    """The provider runtime of `ctx.settings`, recording fetches in the job's database;
    closed (with its state store) when the block ends."""
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


async def active_symbols(database: Database) -> list[str]:
    symbols: list[str] = []
    cursor: str | None = None
    while True:
        async with database.session() as session:
            page, cursor = await instrument_service.search(session, cursor=cursor, limit=PAGE)
        symbols.extend(instrument.symbol for instrument in page if instrument.active)
        if cursor is None:
            return symbols


@task("marketdata.fetch_quotes")
async def fetch_quotes(ctx: JobContext) -> dict[str, Any]:
    """Fetch every active instrument's quote through the quotes chain, store it and drop the
    serving app's cached copy. Idempotent: a rerun stores the then-latest quotes."""
    if not ctx.settings.providers_quotes:
        return {"skipped": "no quotes provider chain (QUANTDESK_PROVIDERS_QUOTES is empty)"}
    symbols = await active_symbols(ctx.db)
    cache = installed_cache()  # None outside the serving process (a Celery worker)
    answered: dict[str, str] = {}  # symbol -> provider
    failed: dict[str, str] = {}
    async with provider_runtime(ctx) as runtime:
        for symbol in symbols:
            try:
                # One symbol at a time: the provider budget spaces the calls anyway.
                answer = await quote_service.refresh(ctx.db, runtime, symbol)
            except AppError as error:  # the chain failed for this symbol; the others go on
                failed[symbol] = error.detail
                continue
            answered[symbol] = answer["meta"]["provider"]
            if cache is not None:
                await cache.invalidate_tag(symbol_tag(CacheCategory.QUOTES, symbol))
    log.info("quotes fetched", updated=len(answered), failed=len(failed))
    if failed and not answered:
        # Nothing came through (the providers are down): a failed run, retried by the next
        # scheduled one rather than by retries piling onto a failing provider.
        raise PermanentJobError(
            "; ".join(f"{symbol}: {detail}" for symbol, detail in sorted(failed.items()))[:2000]
        )
    return {"updated": len(answered), "providers": answered, "failed": failed}
