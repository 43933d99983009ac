"""Provider status for the API: breaker state, health figures and (for admins) details."""

from __future__ import annotations

from datetime import UTC, datetime

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
    async def list(self, runtime: ProviderRuntime, *, details: bool) -> list[ProviderRead]:
        ranks: dict[str, dict[str, int]] = {}
        for kind, chain in runtime.chains.items():
            for position, name in enumerate(chain.ranked(), start=1):
                ranks.setdefault(name, {})[kind.value] = position
        settings = runtime.settings
        found: list[ProviderRead] = []
        for name in sorted(runtime.slots):
            slot = runtime.slots[name]
            snapshot = await slot.breaker.snapshot()
            figures = runtime.health.figures(name)
            item = ProviderRead(
                name=name,
                kinds=sorted(kind.value for kind in slot.provider.kinds),
                chains=runtime.chain_positions(name),
                rank=ranks.get(name, {}),
                breaker=snapshot.state,
                health=ProviderHealthRead(
                    samples=figures.samples,
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
