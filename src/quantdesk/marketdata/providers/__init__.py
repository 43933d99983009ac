"""Resilient market-data providers: per-kind interfaces, chains with fallback, retries,
budgets, circuit breakers, health ranking and data-quality checks (docs/providers.md)."""

from quantdesk.marketdata.providers.base import (
    BarsQuery,
    Calendar,
    DataKind,
    FundamentalsQuery,
    FundNavQuery,
    FxRatesQuery,
    NewsQuery,
    QuoteQuery,
    SeriesQuery,
)
from quantdesk.marketdata.providers.chain import FallbackStep, ProviderAnswer, ProviderChain
from quantdesk.marketdata.providers.registry import ProviderRuntime, build_provider_runtime

__all__ = [
    "BarsQuery",
    "Calendar",
    "DataKind",
    "FallbackStep",
    "FundNavQuery",
    "FundamentalsQuery",
    "FxRatesQuery",
    "NewsQuery",
    "ProviderAnswer",
    "ProviderChain",
    "ProviderRuntime",
    "QuoteQuery",
    "SeriesQuery",
    "build_provider_runtime",
]
