"""Login throttling per account and per client IP (moving window, `limits` library).

Only failures count. While either window is exhausted every attempt for that account or from
that IP is refused with 429 before the password is even checked, so guessing is slowed however
it is spread. Counters live in the rate limiter's storage: shared through Redis by every
process when configured, per process (never failing) while Redis is away.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, RateLimitItemPerSecond

from quantdesk.config import Settings
from quantdesk.errors import AppError
from quantdesk.ratelimit.storage import Backend, RateLimitStorage


class TooManyAttempts(AppError):
    status, code, title = 429, "too-many-login-attempts", "Too Many Requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "too many failed sign-in attempts; try again later",
            headers={"Retry-After": str(max(1, retry_after))},
        )


class LoginThrottle:
    def __init__(self, settings: Settings, storage: RateLimitStorage) -> None:
        window = settings.login_failure_window_seconds
        self.per_account = RateLimitItemPerSecond(settings.login_failures_per_account, window)
        self.per_ip = RateLimitItemPerSecond(settings.login_failures_per_ip, window)
        self.storage = storage

    def _windows(self, email: str, ip: str) -> tuple[tuple[RateLimitItem, str], ...]:
        return ((self.per_account, f"login:acct:{email}"), (self.per_ip, f"login:ip:{ip}"))

    async def check(self, email: str, ip: str) -> None:
        async def retry_after(backend: Backend) -> int | None:
            for item, key in self._windows(email, ip):
                if not await backend.strategy.test(item, key):
                    reset_at, _ = await backend.strategy.get_window_stats(item, key)
                    return math.ceil(reset_at - time.time())
            return None

        wait = await self.storage.run(retry_after, fail_closed=False)
        if wait is not None:
            raise TooManyAttempts(wait)

    async def failed(self, email: str, ip: str) -> None:
        async def hit(backend: Backend) -> None:
            for item, key in self._windows(email, ip):
                await backend.strategy.hit(item, key)

        await self.storage.run(hit, fail_closed=False)

    async def succeeded(self, email: str) -> None:
        async def clear(backend: Backend) -> None:
            await backend.strategy.clear(self.per_account, f"login:acct:{email}")

        await self.storage.run(clear, fail_closed=False)
