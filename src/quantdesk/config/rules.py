"""The vocabulary of the settings: defaults, the figures the monitor watches, the signal
lifetime rule, and the small types the `Settings` class is built from."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel

from quantdesk.kit.timeframes import Timeframe

DEFAULT_SECRET_KEY = "insecure-development-secret-change-me"  # noqa: S105 (the point is to reject it)
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/quantdesk.db"


# The figures the performance monitor watches (observability/figures.py computes them) and
# their built-in [warning, critical] levels; `monitor_thresholds` overrides them.
API_LATENCY_P95 = "api_latency_p95_seconds"
API_ERROR_RATE = "api_error_rate"
PROVIDER_FAILURE_RATE = "provider_failure_rate"
JOBS_FAILED = "jobs_failed"
QUEUE_LENGTH = "queue_length"
BREAKERS_OPEN = "circuit_breakers_open"

# Sensible for an API whose cached reads answer in milliseconds.
DEFAULT_THRESHOLDS: dict[str, tuple[float, float]] = {
    API_LATENCY_P95: (1.0, 2.5),
    API_ERROR_RATE: (0.05, 0.20),
    PROVIDER_FAILURE_RATE: (0.25, 0.50),
    JOBS_FAILED: (1, 5),
    QUEUE_LENGTH: (100, 500),
    BREAKERS_OPEN: (1, 3),
}


def check_lifetimes(value: Mapping[str, int]) -> dict[str, int]:
    """`signals_lifetime_bars` with every key a known strategy, timeframe or both, and every
    lifetime at least one bar (ValueError naming the bad entry otherwise)."""
    if not value:
        return {}
    # Imported here, not at the top: the strategy registry pulls in the numba kernels, and a
    # process that never computes (an export, a webhook dispatcher) should not map them.
    from quantdesk.engine.signals import STRATEGIES

    timeframes = {tf.value for tf in Timeframe}
    strategies = ", ".join(STRATEGIES)
    checked: dict[str, int] = {}
    for key, bars in value.items():
        if ":" in key:
            strategy, _, timeframe = key.partition(":")
            if strategy not in STRATEGIES:
                raise ValueError(f"{key!r}: unknown strategy {strategy!r} (known: {strategies})")
            if timeframe not in timeframes:
                known = ", ".join(tf.value for tf in Timeframe)
                raise ValueError(f"{key!r}: unknown timeframe {timeframe!r} (known: {known})")
        elif key not in STRATEGIES and key not in timeframes:
            raise ValueError(f"{key!r} is neither a strategy ({strategies}) nor a timeframe")
        if bars < 1:
            raise ValueError(f"{key!r}: a signal lives at least 1 bar, got {bars}")
        checked[key] = bars
    return checked


class Environment(StrEnum):
    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


class ConfigError(RuntimeError):
    """Settings that must not be used in the current environment."""


class HtmlRateTable(BaseModel):
    """A central-bank rate table scraped from an HTML page (providers `html:<name>`).

    Each row matched by `row_selector` gives a currency (the first ISO code found by
    `currency_pattern` in the `currency_selector` cell) and its price in `quote_currency`
    (`rate_selector`), per `units_selector` units when the table quotes per 100 or 1000.
    """

    url: str
    quote_currency: str  # the page's own currency, e.g. "MAD" for Bank Al-Maghrib
    row_selector: str = "table tbody tr"
    currency_selector: str = "td:nth-child(1)"
    rate_selector: str = "td:nth-child(2)"
    units_selector: str | None = None
    currency_pattern: str = r"\b([A-Z]{3})\b"
    date_selector: str | None = None
    date_format: str = "%d/%m/%Y"
