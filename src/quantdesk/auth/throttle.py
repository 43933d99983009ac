"""Login throttling per account and per client IP (moving window, `limits` library).

Only failures count. While either window is exhausted every attempt for that account or from
that IP is refused with 429 before the password is even checked, so guessing is slowed no
matter how it is spread. The storage is the rate limiter's (shared through Redis when
configured).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from quantdesk.config import Settings
from quantdesk.errors import AppError


class TooManyAttempts(AppError):
    status, code, title = 429, "too-many-login-attempts", "Too Many Requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "too many failed sign-in attempts; try again later",
            headers={"Retry-After": str(max(1, retry_after))},
        )


class LoginThrottle:
    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        window = settings.login_failure_window_seconds
        self.per_account = RateLimitItemPerSecond(settings.login_failures_per_account, window)
        self.per_ip = RateLimitItemPerSecond(settings.login_failures_per_ip, window)
        self.limiter = MovingWindowRateLimiter(storage or MemoryStorage())

    async def check(self, email: str, ip: str) -> None:
        for item, key in (
            (self.per_account, f"login:acct:{email}"),
            (self.per_ip, f"login:ip:{ip}"),
        ):
            if not await self.limiter.test(item, key):
                reset_at, _ = await self.limiter.get_window_stats(item, key)
                raise TooManyAttempts(math.ceil(reset_at - time.time()))

    async def failed(self, email: str, ip: str) -> None:
        await self.limiter.hit(self.per_account, f"login:acct:{email}")
        await self.limiter.hit(self.per_ip, f"login:ip:{ip}")

    async def succeeded(self, email: str) -> None:
        await self.limiter.clear(self.per_account, f"login:acct:{email}")
