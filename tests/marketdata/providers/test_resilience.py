"""Retry policy, request budget and circuit breaker, each on its own (memory state store)."""

from __future__ import annotations

import asyncio

import pytest

from quantdesk.infra.state import MemoryStateStore
from quantdesk.marketdata.providers.breaker import BreakerSettings, BreakerState, CircuitBreaker
from quantdesk.marketdata.providers.errors import (
    BudgetExhausted,
    PermanentProviderError,
    ProviderError,
    ProviderTimeout,
    RateLimitedError,
    TemporaryProviderError,
)
from quantdesk.marketdata.providers.resilience import (
    Budget,
    CallStats,
    RequestBudget,
    RetryPolicy,
    RetrySettings,
)
from tests.support.providers import RecordingSleep


class Clock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def failing(errors: list[ProviderError], result: str = "ok") -> tuple[list[int], object]:
    calls: list[int] = []

    async def operation() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return result

    return calls, operation


def policy(sleep: RecordingSleep, **overrides: float) -> RetryPolicy:
    values = {
        "attempts": 4,
        "backoff_initial_seconds": 0.1,
        "backoff_max_seconds": 0.3,
        "backoff_jitter_seconds": 0.0,
        "retry_after_max_seconds": 5.0,
    }
    values.update(overrides)
    return RetryPolicy(RetrySettings(**values), sleep=sleep)  # type: ignore[arg-type]


async def test_temporary_errors_are_retried_with_exponential_backoff(sleep: RecordingSleep) -> None:
    calls, operation = failing(
        [TemporaryProviderError("502"), ProviderTimeout("slow"), TemporaryProviderError("503")]
    )
    stats = CallStats()
    assert await policy(sleep).call(operation, stats) == "ok"  # type: ignore[arg-type]
    assert len(calls) == 4 and stats.retries == 3
    assert sleep.waits == pytest.approx([0.1, 0.2, 0.3])  # doubled, capped at the maximum


async def test_retries_stop_after_the_last_attempt_with_the_last_error(
    sleep: RecordingSleep,
) -> None:
    _, operation = failing([TemporaryProviderError(f"5xx #{n}") for n in range(10)])
    stats = CallStats()
    with pytest.raises(TemporaryProviderError, match="5xx #3"):
        await policy(sleep).call(operation, stats)  # type: ignore[arg-type]
    assert stats.attempts == 4


async def test_a_429_waits_exactly_its_retry_after(sleep: RecordingSleep) -> None:
    _, operation = failing([RateLimitedError("429", retry_after=2.0)])
    assert await policy(sleep).call(operation, CallStats()) == "ok"  # type: ignore[arg-type]
    assert sleep.waits == [2.0]


async def test_a_retry_after_longer_than_the_cap_is_not_waited_for(sleep: RecordingSleep) -> None:
    calls, operation = failing([RateLimitedError("429", retry_after=60.0)])
    with pytest.raises(RateLimitedError):
        await policy(sleep).call(operation, CallStats())  # type: ignore[arg-type]
    assert calls == [1] and sleep.waits == []


@pytest.mark.parametrize(
    "error", [PermanentProviderError("401 bad key"), BudgetExhausted("slots busy", retry_after=0.1)]
)
async def test_permanent_errors_and_our_own_budget_are_not_retried(
    sleep: RecordingSleep, error: ProviderError
) -> None:
    calls, operation = failing([error])
    with pytest.raises(type(error)):
        await policy(sleep).call(operation, CallStats())  # type: ignore[arg-type]
    assert calls == [1] and sleep.waits == []


async def test_the_rate_budget_spaces_requests() -> None:
    sleep = RecordingSleep()
    store = MemoryStateStore(clock=Clock(50.0))  # time stands still: only the bookings move
    budget = RequestBudget(
        store,
        "p",
        Budget(concurrency=5, rate_per_second=10, max_wait_seconds=0.25),
        lease_ttl_seconds=5,
        sleep=sleep,
    )
    for _ in range(3):
        async with budget.slot():
            pass
    assert sleep.waits == pytest.approx([0.1, 0.2])  # 0, then 100 ms apart
    with pytest.raises(BudgetExhausted, match=r"10/s"):
        async with budget.slot():
            pass


async def test_the_concurrency_budget_holds_callers_until_a_slot_frees() -> None:
    store = MemoryStateStore()
    budget = RequestBudget(
        store,
        "p",
        Budget(concurrency=2, rate_per_second=0, max_wait_seconds=0.5),
        lease_ttl_seconds=5,
    )
    release = asyncio.Event()
    inside: list[int] = []
    peak = 0

    async def call(n: int) -> None:
        nonlocal peak
        async with budget.slot():
            inside.append(n)
            peak = max(peak, len(inside))
            await release.wait()
            inside.remove(n)

    tasks = [asyncio.create_task(call(n)) for n in range(3)]
    await asyncio.sleep(0.05)
    assert len(inside) == 2  # the third waits for a slot
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 2


async def test_a_full_concurrency_budget_refuses_after_the_max_wait() -> None:
    store = MemoryStateStore()
    budget = RequestBudget(
        store,
        "p",
        Budget(concurrency=1, rate_per_second=0, max_wait_seconds=0.1),
        lease_ttl_seconds=5,
    )
    async with budget.slot():
        with pytest.raises(BudgetExhausted, match="concurrent"):
            async with budget.slot():
                pass
    async with budget.slot():  # released: usable again
        pass


def breaker(
    clock: Clock, store: MemoryStateStore | None = None, **overrides: float
) -> CircuitBreaker:
    settings = BreakerSettings(**{"failure_threshold": 3, "recovery_seconds": 30.0, **overrides})  # type: ignore[arg-type]
    return CircuitBreaker(store or MemoryStateStore(), "p", settings, clock=clock)


async def test_consecutive_failures_open_the_breaker() -> None:
    clock = Clock()
    guard = breaker(clock)
    assert await guard.record_failure() is BreakerState.CLOSED
    assert await guard.record_failure() is BreakerState.CLOSED
    assert await guard.allow()
    assert await guard.record_failure() is BreakerState.OPEN
    assert not await guard.allow()
    snapshot = await guard.snapshot()
    assert snapshot.state is BreakerState.OPEN and snapshot.retry_at == clock.now + 30


async def test_a_success_resets_the_failure_count() -> None:
    guard = breaker(Clock())
    await guard.record_failure()
    await guard.record_failure()
    await guard.record_success()
    await guard.record_failure()
    await guard.record_failure()
    assert (await guard.snapshot()).state is BreakerState.CLOSED


async def test_after_recovery_one_probe_passes_and_its_success_closes_the_breaker() -> None:
    clock = Clock()
    guard = breaker(clock)
    for _ in range(3):
        await guard.record_failure()
    clock.now += 29
    assert not await guard.allow()
    clock.now += 1
    assert (await guard.snapshot()).state is BreakerState.HALF_OPEN
    assert await guard.allow()  # the probe
    assert not await guard.allow()  # everyone else waits for its outcome
    await guard.record_success()
    assert (await guard.snapshot()).state is BreakerState.CLOSED
    assert await guard.allow() and await guard.allow()


async def test_a_failed_probe_opens_the_breaker_for_another_period() -> None:
    clock = Clock()
    guard = breaker(clock, half_open_max_calls=2)
    for _ in range(3):
        await guard.record_failure()
    clock.now += 30
    assert await guard.allow() and await guard.allow()
    assert not await guard.allow()
    assert await guard.record_failure() is BreakerState.OPEN
    assert not await guard.allow()
    assert (await guard.snapshot()).retry_at == clock.now + 30
