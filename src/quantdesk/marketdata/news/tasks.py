"""`news.fetch`: ask every provider of the news chain for its latest items and store the new
ones (marketdata/news/service.py: de-duplicated, sanitized, tagged, scored, announced).

Unlike the other chains, news providers add up rather than stand in for each other: each one
named in `providers_news` is asked (`rss` reads every configured feed, `newsfile` the files,
`polygon` the latest market news), plus, for providers that filter by ticker themselves
(polygon), one query per `news_symbols` entry. Failures follow
the reference jobs (reference/tasks.py `Outcome`): a provider that did not answer makes the run
retry, one that cannot be reached or has nothing fails it without retries, the good items are
stored first either way. Nothing configured: `skipped`, saying which setting to set.
"""

from __future__ import annotations

from collections import defaultdict

from quantdesk.errors import AppError
from quantdesk.jobs.registry import JobContext, task
from quantdesk.jobs.result import JobResult
from quantdesk.marketdata.job_runtime import job_event_bus, provider_runtime
from quantdesk.marketdata.news.hints import HOW_TO_FETCH
from quantdesk.marketdata.news.service import news_service
from quantdesk.marketdata.providers.base import NewsItem, NewsQuery
from quantdesk.marketdata.providers.errors import (
    PermanentProviderError,
    ProviderNotConfigured,
    ProviderRefused,
    ProviderUnreachable,
)
from quantdesk.marketdata.providers.news_files import NAME as NEWSFILE
from quantdesk.marketdata.providers.news_files import provider_of
from quantdesk.marketdata.reference.tasks import Outcome
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.jobs")
READ_WHOLE = frozenset({"rss", NEWSFILE})  # providers whose general answer holds everything


def _by_provider(name: str, items: list[NewsItem]) -> dict[str, list[NewsItem]]:
    """Items grouped by the provider label stored with them (`newsfile:<file>` per file)."""
    if name != NEWSFILE:
        return {name: items}
    groups: dict[str, list[NewsItem]] = defaultdict(list)
    for item in items:
        groups[provider_of(item)].append(item)
    return dict(groups)


def _problem(outcome: Outcome, subject: str, error: AppError) -> None:
    """A named provider's failure: not configured is skipped (the run says which setting),
    unreachable fails the run at once, permanent errors fail it without retries, the rest
    (timeouts, 5xx, open breakers) retry it."""
    cause = error.error if isinstance(error, ProviderRefused) else None
    if isinstance(cause, ProviderNotConfigured):
        outcome.result.skip(subject, cause.message)
    elif isinstance(cause, ProviderUnreachable):
        outcome.offline[subject] = error.detail
    elif isinstance(cause, PermanentProviderError):
        outcome.missing[subject] = error.detail
    else:
        outcome.problem(subject, error)


@task("news.fetch")
async def fetch_news(ctx: JobContext) -> JobResult:
    """The latest items of every news provider (and of each `news_symbols` entry)."""
    settings = ctx.settings
    if not settings.providers_news:
        return JobResult.nothing_to_do(f"no news provider chain: {HOW_TO_FETCH}")
    outcome = Outcome()
    queries = [NewsQuery(limit=settings.news_fetch_limit)] + [
        NewsQuery(symbol=symbol, limit=settings.news_fetch_limit)
        for symbol in settings.news_symbols
    ]
    async with provider_runtime(ctx) as runtime, job_event_bus(ctx) as events:
        for name in runtime.chain(NewsQuery.kind).names:
            # rss and newsfile read everything they have in the general query already.
            asked = queries if name not in READ_WHOLE else queries[:1]
            for query in asked:
                subject = name + (f":{query.symbol}" if query.symbol else "")
                try:
                    answer = await runtime.fetch(query, provider=name)
                except AppError as error:
                    _problem(outcome, subject, error)
                    continue
                new = 0
                for provider, items in _by_provider(name, answer.value).items():
                    async with ctx.db.session() as session:
                        stored = await news_service.store(
                            session,
                            items,
                            provider=provider,
                            bus=events,
                            fetched_at=answer.fetched_at,
                            sentiment_model=settings.news_sentiment_model,
                        )
                    new += len(stored.new_ids)
                outcome.result.wrote(subject, new, provider=name)
    log.info("news fetched", items=outcome.result.rows_written)
    return outcome.finish()
