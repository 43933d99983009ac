"""Build the whole provider runtime from Settings: providers, their guards, one chain per kind.

Chain entries (settings `providers_<kind>`): `csv`, `parquet`, `ecb`, `bam`, `fred`, `polygon`,
`rss`, `ccxt:<exchange id>` and `html:<table name>`. A misspelt entry fails the build with a
ConfigError naming the setting (a typo must not silently leave a kind without providers);
a provider that lacks only an API key is built and reports itself "not configured" when
called, so the chain falls back and GET /providers shows why.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from quantdesk.config import ConfigError, Settings
from quantdesk.db import Database
from quantdesk.infra.state import StateStore
from quantdesk.marketdata.providers.base import DataKind, Provider, Query
from quantdesk.marketdata.providers.batched_recorder import BatchedFetchRecorder
from quantdesk.marketdata.providers.breaker import BreakerSettings, CircuitBreaker
from quantdesk.marketdata.providers.chain import ProviderAnswer, ProviderChain, ProviderSlot
from quantdesk.marketdata.providers.errors import ProviderNotConfigured
from quantdesk.marketdata.providers.health import HealthSettings, ProviderHealth
from quantdesk.marketdata.providers.http import HttpClient
from quantdesk.marketdata.providers.quality import QualitySettings
from quantdesk.marketdata.providers.recorder import (
    DatabaseFetchRecorder,
    FetchRecorder,
    MemoryFetchRecorder,
)
from quantdesk.marketdata.providers.resilience import (
    Budget,
    RequestBudget,
    RetryPolicy,
    RetrySettings,
    Sleep,
)

T = TypeVar("T")


def chain_settings(settings: Settings) -> dict[DataKind, list[str]]:
    configured = {
        DataKind.BARS: settings.providers_bars,
        DataKind.QUOTES: settings.providers_quotes,
        DataKind.FX_RATES: settings.providers_fx_rates,
        DataKind.FUNDAMENTALS: settings.providers_fundamentals,
        DataKind.FUND_NAVS: settings.providers_fund_navs,
        DataKind.ECONOMIC_SERIES: settings.providers_economic_series,
        DataKind.NEWS: settings.providers_news,
    }
    # Entries are case-insensitive (exchange ids and table names are lower case).
    return {
        kind: list(dict.fromkeys(name.strip().lower() for name in names if name.strip()))
        for kind, names in configured.items()
    }


def build_provider(entry: str, settings: Settings, http: HttpClient) -> Provider:
    """One provider for a chain entry; ConfigError when the entry names nothing we know."""
    kind, _, argument = entry.partition(":")
    timeout = settings.providers_timeout_seconds
    if kind in ("csv", "parquet") and not argument:
        from quantdesk.marketdata.providers.files import FilesProvider

        return FilesProvider(
            kind,
            list(settings.providers_files_dirs),
            file_format=kind,
            include_demo=settings.providers_files_demo,
        )
    if kind == "ecb" and not argument:
        from quantdesk.marketdata.providers.ecb import EcbProvider

        return EcbProvider(http, url=settings.ecb_url)
    if kind == "fred" and not argument:
        from quantdesk.marketdata.providers.fred import FredProvider

        return FredProvider(http, api_key=settings.fred_api_key, base_url=settings.fred_base_url)
    if kind == "bam" and not argument:
        from quantdesk.marketdata.providers.bam import BamProvider

        return BamProvider(http, api_key=settings.bam_api_key, base_url=settings.bam_base_url)
    if kind == "polygon" and not argument:
        from quantdesk.marketdata.providers.polygon import PolygonProvider

        return PolygonProvider(
            http, api_key=settings.polygon_api_key, base_url=settings.polygon_base_url
        )
    if kind == "rss" and not argument:
        from quantdesk.marketdata.providers.rss import RssProvider

        return RssProvider(http, feeds=settings.rss_feeds)
    if kind == "newsfile" and not argument:
        from quantdesk.marketdata.providers.news_files import NewsFilesProvider

        return NewsFilesProvider(
            list(settings.providers_files_dirs), include_demo=settings.providers_files_demo
        )
    if kind == "ccxt" and argument:
        from quantdesk.marketdata.providers.ccxt_provider import CcxtProvider

        try:
            return CcxtProvider(
                argument, timeout_seconds=timeout, api_url=settings.ccxt_api_urls.get(argument)
            )
        except ProviderNotConfigured as exc:
            raise ConfigError(f"provider {entry!r}: {exc.message}") from None
    if kind == "html" and argument:
        from quantdesk.marketdata.providers.html_rates import HtmlRatesProvider

        table = settings.html_rate_tables.get(argument)
        if table is None:
            raise ConfigError(f"provider {entry!r}: add {argument!r} to QUANTDESK_HTML_RATE_TABLES")
        return HtmlRatesProvider(entry, table, http)
    raise ConfigError(
        f"unknown provider {entry!r}: use csv, parquet, ecb, bam, fred, polygon, rss, newsfile, "
        "ccxt:<exchange id> or html:<table name>"
    )


@dataclass
class ProviderRuntime:
    settings: Settings
    store: StateStore
    http: HttpClient
    health: ProviderHealth
    recorder: FetchRecorder
    slots: dict[str, ProviderSlot]
    chains: dict[DataKind, ProviderChain] = field(default_factory=dict)
    # The quotes chain's recorder when it batches off the request path (flushed on close).
    quotes_recorder: BatchedFetchRecorder | None = None

    def chain(self, kind: DataKind) -> ProviderChain:
        return self.chains[kind]

    async def fetch(self, query: Query[T], *, provider: str | None = None) -> ProviderAnswer[T]:
        return await self.chains[query.kind].fetch(query, provider=provider)

    def chain_positions(self, name: str) -> dict[str, int]:
        """{kind: 1-based position in the configured chain} for one provider."""
        return {
            kind.value: chain.names.index(name) + 1
            for kind, chain in self.chains.items()
            if name in chain.names
        }

    async def aclose(self) -> None:
        if self.quotes_recorder is not None:
            await self.quotes_recorder.aclose()
        for slot in self.slots.values():
            await slot.provider.aclose()
        await self.http.aclose()


_installed: ProviderRuntime | None = None


def install_provider_runtime(runtime: ProviderRuntime | None) -> None:
    """Make `runtime` (the serving app's) the one jobs run in this process borrow, so their
    calls share its breakers, budgets and health window (`quantdesk.marketdata.tasks`)."""
    global _installed
    _installed = runtime


def installed_provider_runtime() -> ProviderRuntime | None:
    return _installed


def _guarded(
    provider: Provider,
    settings: Settings,
    store: StateStore,
    sleep: Sleep,
    clock: Callable[[], float],
) -> ProviderSlot:
    name = provider.name
    budget = Budget(
        concurrency=settings.providers_concurrency_limits.get(name, settings.providers_concurrency),
        rate_per_second=settings.providers_rate_limits.get(
            name, settings.providers_rate_per_second
        ),
        max_wait_seconds=settings.providers_budget_max_wait_seconds,
    )
    breaker = BreakerSettings(
        failure_threshold=settings.providers_breaker_failure_threshold,
        recovery_seconds=settings.providers_breaker_recovery_seconds,
        half_open_max_calls=settings.providers_breaker_half_open_max_calls,
    )
    return ProviderSlot(
        provider=provider,
        breaker=CircuitBreaker(store, name, breaker, clock=clock),
        budget=RequestBudget(
            store,
            name,
            budget,
            # Outlives any attempt (timeout), so a live request never loses its slot.
            lease_ttl_seconds=settings.providers_timeout_seconds * 2 + 5,
            sleep=sleep,
        ),
    )


def build_provider_runtime(
    settings: Settings,
    state_store: StateStore,
    *,
    database: Database | None = None,
    recorder: FetchRecorder | None = None,
    http: HttpClient | None = None,
    sleep: Sleep = asyncio.sleep,
    clock: Callable[[], float] = time.time,
) -> ProviderRuntime:
    """Every provider named in any chain, guarded, and one chain per kind. Fetches are
    recorded in `database` when given (and `providers_record_fetches`), else in memory; the
    quotes chain, on the GET /quotes miss path, records in batches off the request path
    (`batched_recorder`)."""
    http = http or HttpClient(timeout_seconds=settings.providers_timeout_seconds)
    quotes_recorder: BatchedFetchRecorder | None = None
    if recorder is None:
        use_db = database is not None and settings.providers_record_fetches
        recorder = DatabaseFetchRecorder(database) if use_db and database else MemoryFetchRecorder()
        if use_db and database:
            quotes_recorder = BatchedFetchRecorder(database)
    health = ProviderHealth(
        HealthSettings(
            window=settings.providers_health_window,
            min_samples=settings.providers_health_min_samples,
            min_success_rate=settings.providers_health_min_success_rate,
        ),
        clock=clock,
    )
    runtime = ProviderRuntime(
        settings, state_store, http, health, recorder, slots={}, quotes_recorder=quotes_recorder
    )
    chains = chain_settings(settings)
    # Nothing built here holds a connection yet (HttpClient and ccxt connect on first use), so a
    # ConfigError part-way leaves nothing to close.
    for kind, names in chains.items():
        for name in names:
            if name not in runtime.slots:
                runtime.slots[name] = _guarded(
                    build_provider(name, settings, http), settings, state_store, sleep, clock
                )
        unsupported = [n for n in names if kind not in runtime.slots[n].provider.kinds]
        if unsupported:
            raise ConfigError(
                f"QUANTDESK_PROVIDERS_{kind.value.upper()}: {', '.join(unsupported)} "
                f"cannot serve {kind.value}"
            )
    retry = RetryPolicy(
        RetrySettings(
            attempts=settings.providers_retry_attempts,
            backoff_initial_seconds=settings.providers_backoff_initial_seconds,
            backoff_max_seconds=settings.providers_backoff_max_seconds,
            backoff_jitter_seconds=settings.providers_backoff_jitter_seconds,
            retry_after_max_seconds=settings.providers_retry_after_max_seconds,
        ),
        sleep=sleep,
    )
    quality = QualitySettings(
        outlier_sigma=settings.providers_quality_outlier_sigma,
        stale_bars=settings.providers_quality_stale_bars,
        min_score=settings.providers_quality_min_score,
    )
    for kind, names in chains.items():
        runtime.chains[kind] = ProviderChain(
            kind,
            names,
            runtime.slots,
            retry=retry,
            health=health,
            recorder=quotes_recorder if kind is DataKind.QUOTES and quotes_recorder else recorder,
            quality=quality,
            timeout_seconds=settings.providers_timeout_seconds,
            clock=clock,
        )
    return runtime
