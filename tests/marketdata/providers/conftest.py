"""Fixtures for provider tests: a fake HTTP server, fast settings, a recording sleep."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from quantdesk.config import Settings
from quantdesk.infra.state import MemoryStateStore
from quantdesk.marketdata.providers.recorder import MemoryFetchRecorder
from quantdesk.marketdata.providers.registry import ProviderRuntime, build_provider_runtime
from tests.support.provider_fakes import FakeServer, fake_server
from tests.support.providers import RecordingSleep


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
