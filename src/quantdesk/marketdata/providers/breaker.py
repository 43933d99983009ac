"""A circuit breaker per provider: closed -> open -> half-open -> closed.

* closed: calls pass; `failure_threshold` consecutive failed calls open it.
* open: calls are refused without touching the network until `recovery_seconds` have passed.
* half-open: up to `half_open_max_calls` probe calls pass; a success closes the breaker, a
  failure opens it again for another `recovery_seconds`.

The state lives in the state store, so in distributed mode every process sees the breaker a
failing provider tripped elsewhere. Times are wall-clock seconds (`time.time`), the one clock
processes share; the clock is injectable for tests.

Every read or change of the state also sets the `circuit_breaker_state` gauge (0 closed,
1 half-open, 2 open); every call reads the state first, so the gauge follows the shared state
as seen by this process's last call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from quantdesk.infra.state import StateStore
from quantdesk.observability.metrics import CIRCUIT_BREAKER_STATE


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerSettings:
    failure_threshold: int = 5
    recovery_seconds: float = 30.0
    half_open_max_calls: int = 1


_GAUGE_VALUE = {BreakerState.CLOSED: 0.0, BreakerState.HALF_OPEN: 1.0, BreakerState.OPEN: 2.0}


@dataclass(frozen=True)
class BreakerSnapshot:
    state: BreakerState
    failures: int
    opened_at: float | None
    retry_at: float | None  # when an open breaker lets a probe through


class CircuitBreaker:
    def __init__(
        self,
        store: StateStore,
        provider: str,
        settings: BreakerSettings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.provider = provider
        self.settings = settings
        self._clock = clock
        base = f"providers:{provider}:breaker"
        self._state_key = base
        self._failures_key = f"{base}:failures"
        self._probes_key = f"{base}:probes"
        self._gauge = CIRCUIT_BREAKER_STATE.labels(provider)

    def _publish(self, state: BreakerState) -> BreakerState:
        self._gauge.set(_GAUGE_VALUE[state])
        return state

    @property
    def _ttl(self) -> float:
        # Long enough to outlive any state transition; short enough that a provider removed
        # from the settings leaves nothing behind for long.
        return max(3600.0, self.settings.recovery_seconds * 10)

    async def snapshot(self) -> BreakerSnapshot:
        raw = await self.store.get_hash(self._state_key)
        state = BreakerState(raw.get("state", BreakerState.CLOSED))
        opened_at = float(raw["opened_at"]) if raw.get("opened_at") else None
        failures = int(raw.get("failures", "0") or 0)
        if state is BreakerState.OPEN and opened_at is not None:
            retry_at: float | None = opened_at + self.settings.recovery_seconds
            if self._clock() >= (retry_at or 0):
                state = BreakerState.HALF_OPEN
        else:
            retry_at = None
        return BreakerSnapshot(self._publish(state), failures, opened_at, retry_at)

    async def allow(self) -> bool:
        """May a call go out now? A half-open breaker admits a limited number of probes."""
        snap = await self.snapshot()
        if snap.state is BreakerState.CLOSED:
            return True
        if snap.state is BreakerState.OPEN:
            return False
        # Half-open: the probe counter is shared, so only `half_open_max_calls` calls across
        # every process test the provider; its expiry re-arms probing if a prober died.
        probes = await self.store.incr(self._probes_key, ttl_seconds=self.settings.recovery_seconds)
        return probes <= max(1, self.settings.half_open_max_calls)

    async def record_success(self) -> None:
        raw = await self.store.get_hash(self._state_key)
        if raw.get("state", BreakerState.CLOSED) != BreakerState.CLOSED or raw.get("failures"):
            await self.store.set_hash(
                self._state_key,
                {"state": BreakerState.CLOSED, "opened_at": "", "failures": "0"},
                ttl_seconds=self._ttl,
            )
        await self.store.delete(self._failures_key, self._probes_key)
        self._publish(BreakerState.CLOSED)

    async def record_failure(self) -> BreakerState:
        snap = await self.snapshot()
        if snap.state is not BreakerState.CLOSED:
            # A failed probe (or a call that raced the opening): open for another period.
            await self._open(snap.failures)
            return BreakerState.OPEN
        failures = await self.store.incr(self._failures_key, ttl_seconds=self._ttl)
        if failures >= self.settings.failure_threshold:
            await self._open(failures)
            return BreakerState.OPEN
        await self.store.set_hash(
            self._state_key, {"failures": str(failures)}, ttl_seconds=self._ttl
        )
        return BreakerState.CLOSED

    async def _open(self, failures: int) -> None:
        await self.store.set_hash(
            self._state_key,
            {
                "state": BreakerState.OPEN,
                "opened_at": repr(self._clock()),
                "failures": str(failures),
            },
            ttl_seconds=self._ttl,
        )
        await self.store.delete(self._failures_key, self._probes_key)
        self._publish(BreakerState.OPEN)

    async def reset(self) -> None:
        await self.store.delete(self._state_key, self._failures_key, self._probes_key)
        self._publish(BreakerState.CLOSED)
