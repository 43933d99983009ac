"""Provider health: a rolling window of recent calls per provider.

Two readers share one computation (`figures_from`): the chain ranks by this process's own
window (`ProviderHealth`, no I/O on the request path), and GET /providers reads the window
back from the recorded fetches (`recorded_figures`), which every process writes: a job run in
a worker shows up in the API process's /providers as it does in /metrics.

The chain ranks its providers by it: a provider whose success rate over at least
`min_samples` recent calls falls below `min_success_rate` is "degraded" and moves behind the
healthy ones (configured order is kept within each group), so a provider that keeps failing
stops costing every request a timeout before the healthy one answers.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.marketdata.providers.repository import ProviderFetchRepository


@dataclass(frozen=True)
class HealthSettings:
    window: int = 100
    min_samples: int = 5
    min_success_rate: float = 0.5


@dataclass(frozen=True)
class Outcome:
    ok: bool
    latency_ms: float
    at: float


@dataclass(frozen=True)
class HealthFigures:
    samples: int
    errors: int  # failed calls in the window
    success_rate: float | None
    p50_ms: float | None
    p95_ms: float | None
    degraded: bool
    last_error: str | None
    last_error_at: float | None
    last_success_at: float | None


class ProviderHealth:
    def __init__(self, settings: HealthSettings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self._clock = clock
        self._outcomes: dict[str, deque[Outcome]] = {}
        self._last_error: dict[str, tuple[str, float]] = {}
        self._last_success: dict[str, float] = {}

    def _window(self, provider: str) -> deque[Outcome]:
        window = self._outcomes.get(provider)
        if window is None:
            window = self._outcomes[provider] = deque(maxlen=max(1, self.settings.window))
        return window

    def record(
        self, provider: str, *, ok: bool, latency_ms: float, error: str | None = None
    ) -> None:
        now = self._clock()
        self._window(provider).append(Outcome(ok, latency_ms, now))
        if ok:
            self._last_success[provider] = now
        elif error is not None:
            self._last_error[provider] = (error, now)

    def figures(self, provider: str) -> HealthFigures:
        last_error, last_error_at = self._last_error.get(provider, (None, None))
        return figures_from(
            list(self._outcomes.get(provider, ())),
            self.settings,
            last_error=last_error,
            last_error_at=last_error_at,
            last_success_at=self._last_success.get(provider),
        )

    def rank(self, providers: Sequence[str]) -> list[str]:
        if len(providers) < 2:  # nothing to reorder: skip the figures (on every chain call)
            return list(providers)
        return rank_by(providers, self.figures)


def figures_from(
    outcomes: Sequence[Outcome],
    settings: HealthSettings,
    *,
    last_error: str | None = None,
    last_error_at: float | None = None,
    last_success_at: float | None = None,
) -> HealthFigures:
    """The figures of one provider's window of outcomes (newest or oldest first alike)."""
    if not outcomes:
        return HealthFigures(0, 0, None, None, None, False, last_error, last_error_at, None)
    successes = sum(outcome.ok for outcome in outcomes)
    rate = successes / len(outcomes)
    latencies = np.array([outcome.latency_ms for outcome in outcomes], dtype=np.float64)
    p50, p95 = np.percentile(latencies, [50, 95])
    degraded = len(outcomes) >= settings.min_samples and rate < settings.min_success_rate
    return HealthFigures(
        samples=len(outcomes),
        errors=len(outcomes) - successes,
        success_rate=rate,
        p50_ms=float(p50),
        p95_ms=float(p95),
        degraded=degraded,
        last_error=last_error,
        last_error_at=last_error_at,
        last_success_at=last_success_at,
    )


def rank_by(providers: Sequence[str], figures: Callable[[str], HealthFigures]) -> list[str]:
    """Healthy first in configured order, then degraded ones by success rate (best first)."""

    def key(item: tuple[int, str]) -> tuple[int, float, int]:
        index, name = item
        found = figures(name)
        if not found.degraded:
            return (0, 0.0, index)
        return (1, -(found.success_rate or 0.0), index)

    return [name for _, name in sorted(enumerate(providers), key=key)]


async def recorded_figures(
    session: AsyncSession, providers: Sequence[str], settings: HealthSettings
) -> dict[str, HealthFigures]:
    """Each provider's figures from its last `settings.window` recorded fetches (the
    `provider_fetches` rows every process writes), with its last error and last success."""
    repository = ProviderFetchRepository(session)
    found: dict[str, HealthFigures] = {}
    for name in providers:
        rows = await repository.health_window(name, limit=max(1, settings.window))
        failed = await repository.last_health_outcome(name, healthy=False)
        succeeded = await repository.last_health_outcome(name, healthy=True)
        found[name] = figures_from(
            [
                Outcome(bool(row.healthy), row.latency_ms, row.started_at.timestamp())
                for row in rows
            ],
            settings,
            last_error=failed.error if failed is not None else None,
            last_error_at=failed.started_at.timestamp() if failed is not None else None,
            last_success_at=succeeded.started_at.timestamp() if succeeded is not None else None,
        )
    return found
