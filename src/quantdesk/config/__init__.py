"""Settings: one typed class, read from `QUANTDESK_*` environment variables and `.env`
(`settings.py`), and the rules and defaults it is built from (`rules.py`)."""

from quantdesk.config.rules import (
    API_ERROR_RATE,
    API_LATENCY_P95,
    BREAKERS_OPEN,
    DEFAULT_DATABASE_URL,
    DEFAULT_SECRET_KEY,
    DEFAULT_THRESHOLDS,
    JOBS_FAILED,
    PROVIDER_FAILURE_RATE,
    QUEUE_LENGTH,
    ConfigError,
    Environment,
    HtmlRateTable,
    check_lifetimes,
)
from quantdesk.config.settings import Settings, get_settings

__all__ = [
    "API_ERROR_RATE",
    "API_LATENCY_P95",
    "BREAKERS_OPEN",
    "DEFAULT_DATABASE_URL",
    "DEFAULT_SECRET_KEY",
    "DEFAULT_THRESHOLDS",
    "JOBS_FAILED",
    "PROVIDER_FAILURE_RATE",
    "QUEUE_LENGTH",
    "ConfigError",
    "Environment",
    "HtmlRateTable",
    "Settings",
    "check_lifetimes",
    "get_settings",
]
