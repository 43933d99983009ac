"""The provider chain: fallback with a trace, no fallback when a provider is named, breaker
skips, health ranking, quality quarantine and the fetch records."""

from __future__ import annotations

import numpy as np
import pytest

from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.providers.base import BarsQuery
from quantdesk.marketdata.providers.chain import FallbackStep
from quantdesk.marketdata.providers.errors import (
    NoProviderAnswered,
    NoProviderConfigured,
    PermanentProviderError,
    ProviderDataNotFound,
    ProviderRefused,
    ProviderSubjectNotFound,
    RateLimitedError,
    TemporaryProviderError,
    UnknownProvider,
)
from quantdesk.marketdata.providers.quality import QualitySettings
from quantdesk.marketdata.providers.recorder import MemoryFetchRecorder
from quantdesk.models import FetchStatus
from tests.support.factories import START_2024, synthetic_bars
from tests.support.providers import RecordingSleep
from tests.support.scripted_providers import ScriptedBars, make_chain

QUERY = BarsQuery("BTCUSD", Timeframe.D1, start=START_2024, end=START_2024 + 40 * 86_400)
GOOD = synthetic_bars(30)


async def test_a_failing_provider_hands_over_and_the_answer_says_so(
    recorder: MemoryFetchRecorder, sleep: RecordingSleep
) -> None:
    first = ScriptedBars("a", [TemporaryProviderError("503 from a.example/bars")])
    second = ScriptedBars("b", [GOOD])
    chain = make_chain([first, second], recorder=recorder, sleep=sleep)
    answer = await chain.fetch(QUERY)
    assert answer.provider == "b"
    assert answer.fallback_trace == [FallbackStep("a", "FAILED", "503 from a.example/bars")]
    assert len(first.calls) == 2  # retried once before handing over
    assert np.array_equal(answer.value.close, GOOD.close)
    meta = answer.meta()
    assert meta["provider"] == "b" and meta["quality_score"] == 1.0
    assert meta["fallback_trace"] == [
        {"provider": "a", "status": "FAILED", "error": "503 from a.example/bars"}
    ]
    assert meta["as_of"].endswith("Z")
    failed, succeeded = recorder.records
    assert (failed.provider, failed.status, failed.retries, failed.rows) == (
        "a",
        FetchStatus.FAILED,
        1,
        0,
    )
    assert (succeeded.provider, succeeded.status, succeeded.rows) == ("b", FetchStatus.SUCCESS, 30)
    assert succeeded.quality_score == 1.0 and succeeded.subject == "BTCUSD"


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (0.5, "TIMEOUT"),
        (RateLimitedError("429 from a.example/bars", retry_after=0.01), "RATE_LIMITED"),
        (PermanentProviderError("401 from a.example/bars"), "FAILED"),
        (KeyError("results"), "FAILED"),  # a provider bug is a failure, not a 500
    ],
)
async def test_each_kind_of_failure_is_traced_and_recorded_with_its_status(
    recorder: MemoryFetchRecorder, sleep: RecordingSleep, outcome: object, status: str
) -> None:
    chain = make_chain(
        [ScriptedBars("a", [outcome]), ScriptedBars("b", [GOOD])],  # type: ignore[list-item]
        recorder=recorder,
        sleep=sleep,
        attempts=1,
        timeout_seconds=0.05,
    )
    answer = await chain.fetch(QUERY)
    assert answer.provider == "b"
    assert [step.status for step in answer.fallback_trace] == [status]
    assert recorder.records[0].status.value == status


async def test_a_named_provider_answers_alone_without_fallback(
    recorder: MemoryFetchRecorder, sleep: RecordingSleep
) -> None:
    first = ScriptedBars("a", [TemporaryProviderError("503 from a")])
    second = ScriptedBars("b", [GOOD])
    chain = make_chain([first, second], recorder=recorder, sleep=sleep)
    with pytest.raises(ProviderRefused) as refused:
        await chain.fetch(QUERY, provider="a")
    assert refused.value.status == 502 and "503 from a" in refused.value.detail
    assert second.calls == []
    answer = await chain.fetch(QUERY, provider="b")
    assert answer.provider == "b" and answer.fallback_trace == []


async def test_a_named_provider_must_serve_the_kind(
    recorder: MemoryFetchRecorder, sleep: RecordingSleep
) -> None:
    chain = make_chain([ScriptedBars("a", [GOOD])], recorder=recorder, sleep=sleep)
    with pytest.raises(UnknownProvider, match="'nope'"):
        await chain.fetch(QUERY, provider="nope")


async def test_a_named_provider_without_the_subject_is_not_found(
    recorder: MemoryFetchRecorder, sleep: RecordingSleep
) -> None:
    chain = make_chain(
        [ScriptedBars("a", [ProviderDataNotFound("a: no market 'BTCUSD'")])],
        recorder=recorder,
        sleep=sleep,
    )
    with pytest.raises(ProviderSubjectNotFound) as missing:
        await chain.fetch(QUERY, provider="a")
    assert missing.value.status == 404


async def test_an_open_breaker_skips_the_provider_without_calling_it(
    recorder: MemoryFetchRecorder, sleep: RecordingSleep
) -> None:
    first = ScriptedBars("a", [TemporaryProviderError("503 from a")])
    chain = make_chain(
        [first, ScriptedBars("b", [GOOD])],
        recorder=recorder,
        sleep=sleep,
        attempts=1,
        failure_threshold=2,
    )
    for _ in range(2):
        await chain.fetch(QUERY)
    calls = len(first.calls)
    answer = await chain.fetch(QUERY)
    assert len(first.calls) == calls
    assert answer.fallback_trace == [FallbackStep("a", "CIRCUIT_OPEN", "circuit open for a")]
    with pytest.raises(ProviderRefused) as refused:  # named: the open breaker is the answer
        await chain.fetch(QUERY, provider="a")
    assert refused.value.status == 503


async def test_a_provider_that_keeps_failing_drops_behind_a_healthy_one(
    recorder: MemoryFetchRecorder, sleep: RecordingSleep
) -> None:
    first = ScriptedBars("a", [TemporaryProviderError("503 from a")])
    second = ScriptedBars("b", [GOOD])
    chain = make_chain(
        [first, second], recorder=recorder, sleep=sleep, attempts=1, failure_threshold=100
    )
    assert chain.ranked() == ["a", "b"]
    for _ in range(3):
        await chain.fetch(QUERY)
    assert chain.ranked() == ["b", "a"]
    calls = len(first.calls)
    answer = await chain.fetch(QUERY)
    assert answer.provider == "b" and answer.fallback_trace == []
    assert len(first.calls) == calls


async def test_bad_rows_are_quarantined_and_good_rows_answer(
    recorder: MemoryFetchRecorder, sleep: RecordingSleep
) -> None:
    order = np.insert(np.arange(30), 11, 10)  # row 10 twice
    messy = GOOD.select(order)
    messy.high[20] = messy.low[20] / 2  # high below low
    chain = make_chain([ScriptedBars("a", [messy])], recorder=recorder, sleep=sleep)
    answer = await chain.fetch(QUERY)
    assert len(answer.value) == 29
    assert answer.quality.duplicates == 1 and answer.quality.invalid == 1
    (record,) = recorder.records
    # validity 29/31 x completeness 29/30 (the dropped invalid bar leaves a one-day gap)
    assert record.rows == 29 and record.quality_score == round(29 / 31 * 29 / 30, 4)
    assert sorted(item.reason for item in record.rejected) == [
        "duplicate timestamp",
        "high below low",
    ]
    assert record.quality is not None and record.quality["rows"] == 31


async def test_an_answer_with_nothing_usable_falls_back(
    recorder: MemoryFetchRecorder, sleep: RecordingSleep
) -> None:
    garbage = GOOD.slice(0, 3)
    garbage.close[:] = np.nan
    chain = make_chain(
        [ScriptedBars("a", [garbage]), ScriptedBars("b", [GOOD])], recorder=recorder, sleep=sleep
    )
    answer = await chain.fetch(QUERY)
    assert answer.provider == "b"
    assert "every one of 3 rows failed the quality checks" in answer.fallback_trace[0].error
    assert recorder.records[0].status is FetchStatus.FAILED
    assert len(recorder.records[0].rejected) == 3


async def test_a_score_below_the_minimum_falls_back(
    recorder: MemoryFetchRecorder, sleep: RecordingSleep
) -> None:
    holey = GOOD.select(np.arange(0, 30, 2))  # every other day missing: completeness ~0.5
    chain = make_chain(
        [ScriptedBars("a", [holey]), ScriptedBars("b", [GOOD])],
        recorder=recorder,
        sleep=sleep,
        quality=QualitySettings(min_score=0.8),
    )
    answer = await chain.fetch(QUERY)
    assert answer.provider == "b"
    assert "below 0.8" in answer.fallback_trace[0].error


async def test_limit_keeps_the_latest_bars(
    recorder: MemoryFetchRecorder, sleep: RecordingSleep
) -> None:
    chain = make_chain([ScriptedBars("a", [GOOD])], recorder=recorder, sleep=sleep)
    answer = await chain.fetch(BarsQuery("BTCUSD", Timeframe.D1, end=int(GOOD.ts[-1]), limit=5))
    assert answer.value.ts.tolist() == GOOD.ts[-5:].tolist()


async def test_when_every_provider_fails_the_error_lists_them(
    recorder: MemoryFetchRecorder, sleep: RecordingSleep
) -> None:
    chain = make_chain(
        [
            ScriptedBars("a", [TemporaryProviderError("503 from a")]),
            ScriptedBars("b", [ProviderDataNotFound("b: no such symbol")]),
        ],
        recorder=recorder,
        sleep=sleep,
        attempts=1,
    )
    with pytest.raises(NoProviderAnswered) as failed:
        await chain.fetch(QUERY)
    assert failed.value.status == 503
    assert [step["provider"] for step in failed.value.trace] == ["a", "b"]
    assert "503 from a" in failed.value.detail and "b: no such symbol" in failed.value.detail


async def test_when_no_provider_has_the_subject_it_is_not_found(
    recorder: MemoryFetchRecorder, sleep: RecordingSleep
) -> None:
    chain = make_chain(
        [ScriptedBars(name, [ProviderDataNotFound(f"{name}: no such symbol")]) for name in "ab"],
        recorder=recorder,
        sleep=sleep,
    )
    with pytest.raises(ProviderSubjectNotFound):
        await chain.fetch(QUERY)


async def test_a_kind_without_providers_says_how_to_configure_one(
    recorder: MemoryFetchRecorder, sleep: RecordingSleep
) -> None:
    chain = make_chain([], recorder=recorder, sleep=sleep)
    with pytest.raises(NoProviderConfigured, match="QUANTDESK_PROVIDERS_BARS"):
        await chain.fetch(QUERY)
