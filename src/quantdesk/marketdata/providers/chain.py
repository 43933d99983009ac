"""The provider chain of one data kind: ask providers in health-ranked order until one answers.

Per provider: the breaker may refuse (skipped, noted in the trace); otherwise the call runs
under the retry policy, each attempt inside the provider's request budget and a timeout. The
answer is quality-checked; rows that fail are quarantined and recorded with the fetch, the good
rows answer. A provider that fails (after its retries), or whose answer is unusable (every
row rejected, or a score below `min_score`), hands over to the next one, and the failure goes
into the `fallback_trace` every answer carries.

A caller that names a provider gets that provider or its error: no silent fallback.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from quantdesk.kit.timeutil import iso_z
from quantdesk.marketdata.providers.base import DataKind, Provider, Query
from quantdesk.marketdata.providers.breaker import CircuitBreaker
from quantdesk.marketdata.providers.errors import (
    BudgetExhausted,
    CircuitOpen,
    NoProviderAnswered,
    NoProviderConfigured,
    PermanentProviderError,
    ProviderDataNotFound,
    ProviderError,
    ProviderRefused,
    ProviderSubjectNotFound,
    ProviderTimeout,
    ProviderUnreachable,
    UnknownProvider,
)
from quantdesk.marketdata.providers.health import ProviderHealth
from quantdesk.marketdata.providers.quality import QualityReport, QualitySettings
from quantdesk.marketdata.providers.quality_kinds import Assessed, assess
from quantdesk.marketdata.providers.recorder import FetchRecord, FetchRecorder
from quantdesk.marketdata.providers.resilience import CallStats, RequestBudget, RetryPolicy
from quantdesk.models import FetchStatus, utcnow
from quantdesk.observability.logging import get_logger
from quantdesk.observability.metrics import (
    PROVIDER_REQUEST_DURATION,
    PROVIDER_REQUESTS,
    PROVIDER_RETRIES,
    PROVIDER_STATUS_LABELS,
)

log = get_logger("quantdesk.providers")
T = TypeVar("T")


class LowQuality(PermanentProviderError):
    """The provider answered, but not with data worth serving."""

    trips_breaker = False


@dataclass(frozen=True)
class FallbackStep:
    provider: str
    status: str  # FAILED | TIMEOUT | RATE_LIMITED | CIRCUIT_OPEN
    error: str

    def as_dict(self) -> dict[str, str]:
        return {"provider": self.provider, "status": self.status, "error": self.error}


@dataclass(frozen=True)
class ProviderAnswer(Generic[T]):
    value: T
    provider: str
    fallback_trace: list[FallbackStep]
    quality: QualityReport
    fetched_at: datetime = field(default_factory=utcnow)

    def meta(self) -> dict[str, Any]:
        """The market-data `meta` fields this answer fills (README.md, "API conventions")."""
        return {
            "provider": self.provider,
            "fallback_trace": [step.as_dict() for step in self.fallback_trace],
            "as_of": iso_z(self.fetched_at),
            "quality_score": self.quality.score,
        }


@dataclass(frozen=True)
class ProviderSlot:
    """A provider with the breaker and budget that guard it."""

    provider: Provider
    breaker: CircuitBreaker
    budget: RequestBudget


def _step(name: str, error: ProviderError) -> FallbackStep:
    status = "CIRCUIT_OPEN" if isinstance(error, CircuitOpen) else error.status.value
    return FallbackStep(name, status, error.message)


class ProviderChain:
    def __init__(
        self,
        kind: DataKind,
        names: Sequence[str],
        slots: Mapping[str, ProviderSlot],
        *,
        retry: RetryPolicy,
        health: ProviderHealth,
        recorder: FetchRecorder,
        quality: QualitySettings,
        timeout_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.kind = kind
        self.names = list(names)
        self.slots = slots
        self.retry = retry
        self.health = health
        self.recorder = recorder
        self.quality = quality
        self.timeout_seconds = timeout_seconds
        self._clock = clock

    def ranked(self) -> list[str]:
        return self.health.rank(self.names)

    def _serving(self) -> list[str]:
        """Every provider that can serve this kind: the chain, then the others registered."""
        others = sorted(
            name
            for name, slot in self.slots.items()
            if self.kind in slot.provider.kinds and name not in self.names
        )
        return [*self.names, *others]

    async def fetch(self, query: Query[T], *, provider: str | None = None) -> ProviderAnswer[T]:
        if query.kind is not self.kind:
            raise ValueError(f"a {query.kind} query sent to the {self.kind} chain")
        if provider is not None:
            return await self._fetch_named(query, provider)
        if not self.names:
            raise NoProviderConfigured(self.kind.value)
        trace: list[FallbackStep] = []
        errors: list[ProviderError] = []
        for name in self.ranked():
            try:
                assessed = await self._call(name, query)
            except ProviderError as error:
                trace.append(_step(name, error))
                errors.append(error)
                continue
            return ProviderAnswer(assessed.value, name, trace, assessed.report)
        steps = [step.as_dict() for step in trace]
        if errors and all(isinstance(error, ProviderDataNotFound) for error in errors):
            raise ProviderSubjectNotFound(
                f"no provider has {self.kind.value} for {query.subject!r}",
                errors=[{**step, "type": "provider"} for step in steps],
            )
        offline = bool(errors) and all(isinstance(error, ProviderUnreachable) for error in errors)
        raise NoProviderAnswered(self.kind.value, query.subject, steps, offline=offline)

    async def _fetch_named(self, query: Query[T], name: str) -> ProviderAnswer[T]:
        serving = self._serving()
        if name not in serving:
            raise UnknownProvider(name, self.kind.value, serving)
        try:
            assessed = await self._call(name, query)
        except ProviderDataNotFound as error:
            raise ProviderSubjectNotFound(f"provider {name!r}: {error.message}") from None
        except ProviderError as error:
            raise ProviderRefused(name, error) from None
        return ProviderAnswer(assessed.value, name, [], assessed.report)

    async def _call(self, name: str, query: Query[T]) -> Assessed[T]:
        slot = self.slots[name]
        if not await slot.breaker.allow():
            raise CircuitOpen(f"circuit open for {name}")
        stats = CallStats()
        started_at = utcnow()
        started = time.perf_counter()

        async def attempt() -> T:
            async with slot.budget.slot():
                try:
                    async with asyncio.timeout(self.timeout_seconds):
                        return await query.run(slot.provider)
                except TimeoutError:
                    raise ProviderTimeout(
                        f"{name} did not answer within {self.timeout_seconds:g}s"
                    ) from None

        try:
            try:
                value = await self.retry.call(attempt, stats)
            except ProviderError:
                raise
            except Exception as exc:  # a provider bug must not escape as a 500
                log.exception("providers.unexpected_error", provider=name)
                raise PermanentProviderError(
                    f"{name} failed unexpectedly: {type(exc).__name__}"
                ) from None
        except ProviderError as error:
            await self._failed(name, query, error, stats, started, started_at)
            raise
        latency_ms = (time.perf_counter() - started) * 1000
        assessed = assess(query, value, now=self._clock(), settings=self.quality)
        report = assessed.report
        problem = None
        if report.rows and not report.kept:
            problem = f"{name}: every one of {report.rows} rows failed the quality checks"
        elif report.score is not None and report.score < self.quality.min_score:
            problem = f"{name}: quality score {report.score} is below {self.quality.min_score}"
        await self._record(
            FetchRecord(
                provider=name,
                kind=self.kind.value,
                subject=query.subject,
                status=FetchStatus.FAILED if problem else FetchStatus.SUCCESS,
                latency_ms=latency_ms,
                retries=stats.retries,
                rows=report.kept,
                quality_score=report.score,
                quality=report.as_dict(),
                error=problem,
                rejected=assessed.rejected,
                started_at=started_at,
                healthy=problem is None,
            )
        )
        self.health.record(name, ok=problem is None, latency_ms=latency_ms, error=problem)
        await slot.breaker.record_success()
        if problem:
            raise LowQuality(problem)
        return assessed

    async def _record(self, record: FetchRecord) -> None:
        """The one place a call's outcome is settled: its fetch record and its metrics."""
        labels = (record.provider, record.kind)
        PROVIDER_REQUESTS.labels(*labels, PROVIDER_STATUS_LABELS[record.status.value]).inc()
        PROVIDER_REQUEST_DURATION.labels(*labels).observe(record.latency_ms / 1000)
        if record.retries:
            PROVIDER_RETRIES.labels(*labels).inc(record.retries)
        await self.recorder.record(record)

    async def _failed(
        self,
        name: str,
        query: Query[Any],
        error: ProviderError,
        stats: CallStats,
        started: float,
        started_at: datetime,
    ) -> None:
        latency_ms = (time.perf_counter() - started) * 1000
        # Nothing sent (our own budget): says nothing about the provider's health. "No such
        # symbol" is an answer: the provider is up, only the subject is missing.
        nothing_sent = isinstance(error, BudgetExhausted)
        answered = isinstance(error, ProviderDataNotFound)
        log.warning(
            "providers.fetch_failed",
            provider=name,
            kind=self.kind.value,
            subject=query.subject,
            status=error.status.value,
            retries=stats.retries,
            error=error.message,
        )
        await self._record(
            FetchRecord(
                provider=name,
                kind=self.kind.value,
                subject=query.subject,
                status=error.status,
                latency_ms=latency_ms,
                retries=stats.retries,
                error=error.message,
                started_at=started_at,
                healthy=None if nothing_sent else answered,
            )
        )
        if nothing_sent:
            return
        self.health.record(name, ok=answered, latency_ms=latency_ms, error=error.message)
        breaker = self.slots[name].breaker
        if error.trips_breaker:
            await breaker.record_failure()
        else:
            # The provider answered (e.g. "unknown symbol"): it is up.
            await breaker.record_success()
