"""Provider status for the API: breaker state, health figures and (for admins) details.

Health comes from the recorded fetches (`provider_fetches`) when the runtime records them, so
calls made by any process (a Celery worker's job, another API replica) count, as they do in
/metrics; the breaker state is the shared one (Redis in distributed mode). A runtime that
records nothing (`QUANTDESK_PROVIDERS_RECORD_FETCHES=false`) shows this process's window."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.marketdata.providers.health import HealthFigures, rank_by, recorded_figures
from quantdesk.marketdata.providers.recorder import DatabaseFetchRecorder
from quantdesk.marketdata.providers.registry import ProviderRuntime
from quantdesk.marketdata.providers.schemas import (
    BreakerDetails,
    ProviderDetails,
    ProviderHealthRead,
    ProviderRead,
)


def _when(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


class ProviderStatusService:
    async def figures(
        self, runtime: ProviderRuntime, session: AsyncSession
    ) -> dict[str, HealthFigures]:
        names = sorted(runtime.slots)
        if isinstance(runtime.recorder, DatabaseFetchRecorder):
            return await recorded_figures(session, names, runtime.health.settings)
        return {name: runtime.health.figures(name) for name in names}

    async def list(
        self, runtime: ProviderRuntime, session: AsyncSession, *, details: bool
    ) -> list[ProviderRead]:
        health = await self.figures(runtime, session)
        ranks: dict[str, dict[str, int]] = {}
        for kind, chain in runtime.chains.items():
            for position, name in enumerate(rank_by(chain.names, health.__getitem__), start=1):
                ranks.setdefault(name, {})[kind.value] = position
        settings = runtime.settings
        found: list[ProviderRead] = []
        for name in sorted(runtime.slots):
            slot = runtime.slots[name]
            snapshot = await slot.breaker.snapshot()
            figures = health[name]
            item = ProviderRead(
                name=name,
                kinds=sorted(kind.value for kind in slot.provider.kinds),
                chains=runtime.chain_positions(name),
                rank=ranks.get(name, {}),
                breaker=snapshot.state,
                health=ProviderHealthRead(
                    samples=figures.samples,
                    errors=figures.errors,
                    success_rate=figures.success_rate,
                    p50_ms=figures.p50_ms,
                    p95_ms=figures.p95_ms,
                    degraded=figures.degraded,
                ),
            )
            if details:
                breaker = slot.breaker.settings
                item.details = ProviderDetails(
                    last_error=figures.last_error,
                    last_error_at=_when(figures.last_error_at),
                    last_success_at=_when(figures.last_success_at),
                    breaker=BreakerDetails(
                        failures=snapshot.failures,
                        opened_at=_when(snapshot.opened_at),
                        retry_at=_when(snapshot.retry_at),
                        failure_threshold=breaker.failure_threshold,
                        recovery_seconds=breaker.recovery_seconds,
                        half_open_max_calls=breaker.half_open_max_calls,
                        shared=runtime.store.shared,
                    ),
                    concurrency=slot.budget.budget.concurrency,
                    rate_per_second=slot.budget.budget.rate_per_second,
                    retry_attempts=settings.providers_retry_attempts,
                    timeout_seconds=settings.providers_timeout_seconds,
                )
            found.append(item)
        return found


provider_status_service = ProviderStatusService()
