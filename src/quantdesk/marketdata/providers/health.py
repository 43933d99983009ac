"""Provider health: a rolling window of recent calls per provider (this process's view).

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
        outcomes = list(self._outcomes.get(provider, ()))
        last_error, last_error_at = self._last_error.get(provider, (None, None))
        if not outcomes:
            return HealthFigures(0, None, None, None, False, last_error, last_error_at, None)
        successes = sum(outcome.ok for outcome in outcomes)
        rate = successes / len(outcomes)
        latencies = np.array([outcome.latency_ms for outcome in outcomes], dtype=np.float64)
        p50, p95 = np.percentile(latencies, [50, 95])
        degraded = (
            len(outcomes) >= self.settings.min_samples and rate < self.settings.min_success_rate
        )
        return HealthFigures(
            samples=len(outcomes),
            success_rate=rate,
            p50_ms=float(p50),
            p95_ms=float(p95),
            degraded=degraded,
            last_error=last_error,
            last_error_at=last_error_at,
            last_success_at=self._last_success.get(provider),
        )

    def rank(self, providers: Sequence[str]) -> list[str]:
        """Healthy first in configured order, then degraded ones by success rate (best first)."""

        def key(item: tuple[int, str]) -> tuple[int, float, int]:
            index, name = item
            figures = self.figures(name)
            if not figures.degraded:
                return (0, 0.0, index)
            return (1, -(figures.success_rate or 0.0), index)

        return [name for _, name in sorted(enumerate(providers), key=key)]
