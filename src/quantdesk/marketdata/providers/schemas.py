"""API shapes of GET /api/v1/providers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from quantdesk.marketdata.providers.breaker import BreakerState


class ProviderHealthRead(BaseModel):
    """Over the provider's last `QUANTDESK_PROVIDERS_HEALTH_WINDOW` recorded calls, made by
    any process (API, workers)."""

    samples: int
    errors: int = Field(description="Failed calls in the window")
    success_rate: float | None
    p50_ms: float | None
    p95_ms: float | None
    degraded: bool


class BreakerDetails(BaseModel):
    failures: int
    opened_at: datetime | None
    retry_at: datetime | None
    failure_threshold: int
    recovery_seconds: float
    half_open_max_calls: int
    shared: bool  # state kept in Redis, shared by every process


class ProviderDetails(BaseModel):
    """Admins only: what went wrong last and how the provider is guarded."""

    last_error: str | None
    last_error_at: datetime | None
    last_success_at: datetime | None
    breaker: BreakerDetails
    concurrency: int
    rate_per_second: float
    retry_attempts: int
    timeout_seconds: float


class ProviderRead(BaseModel):
    name: str
    kinds: list[str]
    # {kind: 1-based position in the configured chain}; `rank` is the health-ranked position.
    chains: dict[str, int]
    rank: dict[str, int]
    breaker: BreakerState
    health: ProviderHealthRead
    details: ProviderDetails | None = None
