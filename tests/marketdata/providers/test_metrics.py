"""Provider metrics: each call counted by outcome and timed, retries counted, and the breaker
gauge following the breaker (the registry is process-global: counters compare before/after,
provider names are unique to each test)."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from quantdesk.infra.state import MemoryStateStore
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.providers.base import BarsQuery
from quantdesk.marketdata.providers.breaker import BreakerSettings, CircuitBreaker
from quantdesk.marketdata.providers.errors import (
    BudgetExhausted,
    PermanentProviderError,
    RateLimitedError,
    TemporaryProviderError,
)
from quantdesk.marketdata.providers.recorder import MemoryFetchRecorder
from quantdesk.models import FetchStatus
from quantdesk.observability.metrics import PROVIDER_STATUS_LABELS
from tests.support.factories import START_2024, synthetic_bars
from tests.support.providers import RecordingSleep
from tests.support.scripted_providers import ScriptedBars, make_chain

QUERY = BarsQuery("BTCUSD", Timeframe.D1, start=START_2024, end=START_2024 + 40 * 86_400)
GOOD = synthetic_bars(30)
STATUSES = ("ok", "error", "timeout", "rate_limited")


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def calls(provider: str) -> dict[str, float]:
    return {
        status: value("provider_requests_total", provider=provider, kind="bars", status=status)
        for status in STATUSES
    }


def timed(provider: str) -> float:
    return value("provider_request_duration_seconds_count", provider=provider, kind="bars")


def retries(provider: str) -> float:
    return value("provider_retries_total", provider=provider, kind="bars")


def breaker_state(provider: str) -> float | None:
    return REGISTRY.get_sample_value("circuit_breaker_state", {"provider": provider})


def changes(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {status: after[status] - before[status] for status in STATUSES}


async def test_a_call_is_counted_once_with_its_retries_and_timed(
    recorder: MemoryFetchRecorder, sleep: RecordingSleep
) -> None:
    flaky = ScriptedBars("metrics-flaky", [TemporaryProviderError("503"), GOOD])
    chain = make_chain([flaky], recorder=recorder, sleep=sleep, attempts=3)
    before = calls("metrics-flaky"), timed("metrics-flaky"), retries("metrics-flaky")
    await chain.fetch(QUERY)
    after = calls("metrics-flaky"), timed("metrics-flaky"), retries("metrics-flaky")
    assert len(flaky.calls) == 2  # two attempts, one call
    assert changes(before[0], after[0]) == {"ok": 1, "error": 0, "timeout": 0, "rate_limited": 0}
    assert (after[1] - before[1], after[2] - before[2]) == (1, 1)


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (0.5, "timeout"),
        (RateLimitedError("429", retry_after=0.01), "rate_limited"),
        (BudgetExhausted("all slots busy"), "rate_limited"),
        (PermanentProviderError("401"), "error"),
        (KeyError("results"), "error"),  # a provider bug
    ],
)
async def test_a_failed_call_is_counted_by_its_fetch_status_in_lower_case(
    recorder: MemoryFetchRecorder, sleep: RecordingSleep, outcome: object, status: str
) -> None:
    name = f"metrics-{status}-{type(outcome).__name__}"
    failing = ScriptedBars(name, [outcome])  # type: ignore[list-item]
    chain = make_chain(
        [failing, ScriptedBars("metrics-backup", [GOOD])],
        recorder=recorder,
        sleep=sleep,
        attempts=1,
        timeout_seconds=0.05,
    )
    before, duration_before = calls(name), timed(name)
    answer = await chain.fetch(QUERY)
    assert answer.provider == "metrics-backup"
    expected = {label: float(label == status) for label in STATUSES}
    assert changes(before, calls(name)) == expected
    assert timed(name) - duration_before == 1
    assert PROVIDER_STATUS_LABELS[recorder.records[0].status] == status


async def test_an_open_breaker_shows_in_the_gauge_and_its_refusals_are_not_calls(
    recorder: MemoryFetchRecorder, sleep: RecordingSleep
) -> None:
    down = ScriptedBars("metrics-down", [PermanentProviderError("500")])
    chain = make_chain(
        [down, ScriptedBars("metrics-up", [GOOD])],
        recorder=recorder,
        sleep=sleep,
        attempts=1,
        failure_threshold=2,
    )
    before = calls("metrics-down")
    await chain.fetch(QUERY)
    assert breaker_state("metrics-down") == 0  # one failure: still closed
    await chain.fetch(QUERY)
    assert breaker_state("metrics-down") == 2
    await chain.fetch(QUERY)  # refused by the breaker: nothing sent
    assert len(down.calls) == 2
    assert changes(before, calls("metrics-down"))["error"] == 2
    assert breaker_state("metrics-up") == 0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def test_the_breaker_gauge_reads_closed_open_half_open_and_closed_again() -> None:
    clock = Clock()
    settings = BreakerSettings(failure_threshold=1, recovery_seconds=30.0)
    guard = CircuitBreaker(MemoryStateStore(), "metrics-probe", settings, clock=clock)
    seen: list[float | None] = []
    assert await guard.allow()
    seen.append(breaker_state("metrics-probe"))
    await guard.record_failure()
    seen.append(breaker_state("metrics-probe"))
    clock.now += 30
    assert await guard.allow()  # the probe
    seen.append(breaker_state("metrics-probe"))
    await guard.record_success()
    seen.append(breaker_state("metrics-probe"))
    assert seen == [0, 2, 1, 0]


async def test_a_reset_breaker_reads_closed() -> None:
    guard = CircuitBreaker(
        MemoryStateStore(), "metrics-reset", BreakerSettings(failure_threshold=1)
    )
    await guard.record_failure()
    assert breaker_state("metrics-reset") == 2
    await guard.reset()
    assert breaker_state("metrics-reset") == 0


def test_every_fetch_status_has_its_own_label() -> None:
    assert sorted(PROVIDER_STATUS_LABELS) == sorted(status.value for status in FetchStatus)
    assert sorted(PROVIDER_STATUS_LABELS.values()) == sorted(STATUSES)
