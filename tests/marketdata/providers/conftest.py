"""Fixtures for provider tests: a fake HTTP server, fast settings, a recording sleep."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from quantdesk.config import Settings
from quantdesk.infra.state import MemoryStateStore
from quantdesk.marketdata.providers.recorder import MemoryFetchRecorder
from quantdesk.marketdata.providers.registry import ProviderRuntime, build_provider_runtime
from tests.marketdata.providers.fakes import FakeServer, fake_server


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


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with fake_server() as running:
        yield running


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def recorder() -> MemoryFetchRecorder:
    return MemoryFetchRecorder()


@pytest.fixture
async def runtime_factory(
    sleep: RecordingSleep, recorder: MemoryFetchRecorder
) -> AsyncIterator[Any]:
    """build(settings) -> a runtime on a memory store, closed after the test."""
    built: list[ProviderRuntime] = []

    def build(settings: Settings) -> ProviderRuntime:
        runtime = build_provider_runtime(
            settings, MemoryStateStore(), recorder=recorder, sleep=sleep
        )
        built.append(runtime)
        return runtime

    yield build
    for runtime in built:
        await runtime.aclose()
