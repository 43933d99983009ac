"""In-memory providers that answer from a script (for chain tests)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from quantdesk.infra.state import MemoryStateStore, StateStore
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.providers.base import BarsQuery, DataKind
from quantdesk.marketdata.providers.breaker import BreakerSettings, CircuitBreaker
from quantdesk.marketdata.providers.chain import ProviderChain, ProviderSlot
from quantdesk.marketdata.providers.health import HealthSettings, ProviderHealth
from quantdesk.marketdata.providers.quality import QualitySettings
from quantdesk.marketdata.providers.recorder import FetchRecorder
from quantdesk.marketdata.providers.resilience import (
    Budget,
    RequestBudget,
    RetryPolicy,
    RetrySettings,
)
from tests.support.providers import RecordingSleep

Outcome = BarFrame | Exception | float  # a float: hang that many seconds


@dataclass
class ScriptedBars:
    name: str
    script: list[Outcome]
    kinds: frozenset[DataKind] = frozenset({DataKind.BARS})
    calls: list[BarsQuery] = field(default_factory=list)

    async def fetch_bars(self, query: BarsQuery) -> BarFrame:
        self.calls.append(query)
        outcome = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(outcome, float):
            await asyncio.sleep(outcome)
            raise AssertionError("should have timed out")
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def aclose(self) -> None:
        return None


def make_chain(
    providers: list[ScriptedBars],
    *,
    recorder: FetchRecorder,
    sleep: RecordingSleep,
    store: StateStore | None = None,
    attempts: int = 2,
    failure_threshold: int = 3,
    health: HealthSettings | None = None,
    quality: QualitySettings | None = None,
    timeout_seconds: float = 0.2,
    names: list[str] | None = None,
) -> ProviderChain:
    store = store or MemoryStateStore()
    slots = {
        p.name: ProviderSlot(
            provider=p,
            breaker=CircuitBreaker(
                store, p.name, BreakerSettings(failure_threshold=failure_threshold)
            ),
            budget=RequestBudget(
                store, p.name, Budget(rate_per_second=0), lease_ttl_seconds=5, sleep=sleep
            ),
        )
        for p in providers
    }
    retry = RetryPolicy(
        RetrySettings(attempts=attempts, backoff_initial_seconds=0.01, backoff_jitter_seconds=0),
        sleep=sleep,
    )
    return ProviderChain(
        DataKind.BARS,
        names if names is not None else [p.name for p in providers],
        slots,
        retry=retry,
        health=ProviderHealth(health or HealthSettings(min_samples=3)),
        recorder=recorder,
        quality=quality or QualitySettings(),
        timeout_seconds=timeout_seconds,
    )
