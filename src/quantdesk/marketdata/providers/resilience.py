"""Around every provider call: retries and a per-provider request budget.

Retries happen on temporary errors only, with exponential backoff and jitter; a 429 waits
the provider's Retry-After instead (up to `retry_after_max_seconds`: a provider that asks for
longer is left alone and the chain moves on). The budget caps concurrent requests and spaces
requests `1 / rate_per_second` apart; both live in the state store, so in distributed mode
every process shares one budget per provider. Each attempt takes a slot and a rate slot, so
retries are counted against the budget too, and no slot is held while backing off.

The retry loop is written out here (it was tenacity's `AsyncRetrying`, with the same waits): a
call that succeeds at once, nearly every call, costs one `await` and nothing more.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from quantdesk.infra.state import StateStore
from quantdesk.marketdata.providers.errors import (
    BudgetExhausted,
    RateLimitedError,
    TemporaryProviderError,
)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetrySettings:
    attempts: int = 3  # in total, the first included
    backoff_initial_seconds: float = 0.5
    backoff_max_seconds: float = 8.0
    backoff_jitter_seconds: float = 0.5
    retry_after_max_seconds: float = 30.0


@dataclass
class CallStats:
    attempts: int = 0

    @property
    def retries(self) -> int:
        return max(0, self.attempts - 1)


class RetryPolicy:
    def __init__(self, settings: RetrySettings, *, sleep: Sleep = asyncio.sleep) -> None:
        self.settings = settings
        self._sleep = sleep

    def retryable(self, error: BaseException) -> bool:
        if not isinstance(error, TemporaryProviderError) or isinstance(error, BudgetExhausted):
            return False
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            return error.retry_after <= self.settings.retry_after_max_seconds
        return True

    def wait_seconds(self, error: BaseException, attempt: int) -> float:
        """How long to wait after failed attempt number `attempt` (1 for the first): a 429's
        Retry-After, or initial x 2^(attempt-1) capped at the maximum, plus up to `jitter`
        seconds at random so that callers failing together do not retry together."""
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            return error.retry_after
        settings = self.settings
        try:
            backoff = settings.backoff_initial_seconds * 2.0 ** (attempt - 1)
        except OverflowError:
            backoff = settings.backoff_max_seconds
        backoff = max(0.0, min(backoff, settings.backoff_max_seconds))
        jitter = random.random()  # noqa: S311 (spreads retries; no secret)
        return backoff + jitter * settings.backoff_jitter_seconds

    async def call(self, operation: Callable[[], Awaitable[T]], stats: CallStats) -> T:
        """Run `operation` until it succeeds, fails for good, or attempts run out; the last
        error is re-raised as it was."""
        attempts = max(1, self.settings.attempts)
        attempt = 0
        while True:
            attempt += 1
            stats.attempts += 1
            try:
                return await operation()
            except Exception as error:
                if attempt >= attempts or not self.retryable(error):
                    raise
                wait = self.wait_seconds(error, attempt)
            await self._sleep(wait)


@dataclass(frozen=True)
class Budget:
    concurrency: int = 4
    rate_per_second: float = 5.0  # 0 or less: no spacing
    max_wait_seconds: float = 5.0  # longer than this for a slot: refuse, let the chain move on


class RequestBudget:
    POLL_SECONDS = 0.02

    def __init__(
        self,
        store: StateStore,
        provider: str,
        budget: Budget,
        *,
        lease_ttl_seconds: float,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.store = store
        self.provider = provider
        self.budget = budget
        self.lease_ttl_seconds = lease_ttl_seconds
        self._sleep = sleep
        self._lease_key = f"providers:{provider}:leases"
        # Lease tokens: unique across processes (the random prefix) and within this one.
        self._token_prefix = uuid.uuid4().hex
        self._tokens = itertools.count()
        self._rate_key = f"providers:{provider}:next"

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        token = f"{self._token_prefix}-{next(self._tokens)}"
        deadline = time.monotonic() + self.budget.max_wait_seconds
        limit = max(1, self.budget.concurrency)
        while not await self.store.acquire_lease(
            self._lease_key, token, limit=limit, ttl_seconds=self.lease_ttl_seconds
        ):
            if time.monotonic() >= deadline:
                raise BudgetExhausted(
                    f"all {limit} concurrent request slots for {self.provider} are busy",
                    retry_after=self.POLL_SECONDS,
                )
            await self._sleep(self.POLL_SECONDS)
        try:
            await self._respect_rate(deadline)
            yield
        finally:
            await self.store.release_lease(self._lease_key, token)

    async def _respect_rate(self, deadline: float) -> None:
        rate = self.budget.rate_per_second
        if rate <= 0:
            return
        interval = 1.0 / rate
        remaining = max(0.0, deadline - time.monotonic())
        wait = await self.store.reserve(
            self._rate_key, interval_seconds=interval, max_wait_seconds=remaining
        )
        if wait is None:
            raise BudgetExhausted(
                f"request budget for {self.provider} ({rate:g}/s) is used up for the next "
                f"{remaining:.1f}s",
                retry_after=interval,
            )
        if wait > 0:
            await self._sleep(wait)
