"""Settings and a recording sleep for provider tests (no real waiting between retries)."""

from __future__ import annotations

from typing import Any

from quantdesk.config import Settings


class RecordingSleep:
    """Stands in for asyncio.sleep in retry policies: records each wait, waits for nothing."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def fast_settings(**overrides: Any) -> Settings:
    """Provider settings with tiny timeouts and no real backoff (tests stay fast)."""
    values: dict[str, Any] = {
        "database_url": "sqlite+aiosqlite:///:memory:",
        "providers_timeout_seconds": 0.3,
        "providers_backoff_initial_seconds": 0.01,
        "providers_backoff_max_seconds": 0.05,
        "providers_backoff_jitter_seconds": 0.0,
        "providers_retry_after_max_seconds": 5.0,
        "providers_rate_per_second": 0.0,
        "providers_budget_max_wait_seconds": 0.5,
        "providers_files_demo": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)
