"""Login throttling (moving windows, `limits` library). Only failures count.

Three windows, each `login_failure_window_seconds` (default 15 minutes) long:

* per account and client address (default 5 failures): past it, that address is refused for
  that account with 429 and `Retry-After`, before the password is even checked. A success
  from the address clears its count.
* per client address, across accounts (default 20): past it, that address is refused for
  every account, so guessing spread over many accounts is slowed too.
* per account, across addresses (default 20): the softer limit, against guessing spread over
  many addresses. Past it, addresses that already failed on the account are refused; an
  address with no failure of its own on the account still has its password checked, so the
  owner signing in from their usual address is never locked out by someone else's guesses
  (each new address of a distributed guesser gets one try per window, then it is refused).

Counters live in the rate limiter's storage: shared through Redis by every process when
configured, per process (never failing) while Redis is away.
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
        self.per_account_ip = RateLimitItemPerSecond(settings.login_failures_per_account_ip, window)
        self.per_ip = RateLimitItemPerSecond(settings.login_failures_per_ip, window)
        self.per_account = RateLimitItemPerSecond(settings.login_failures_per_account, window)
        self.storage = storage

    @staticmethod
    def _keys(email: str, ip: str) -> tuple[str, str, str]:
        """(account+address, address, account); an email never contains a space."""
        return f"login:pair:{email} {ip}", f"login:ip:{ip}", f"login:acct:{email}"

    async def check(self, email: str, ip: str) -> None:
        """Raise TooManyAttempts when this address may not try this account now."""
        pair, address, account = self._keys(email, ip)

        async def retry_after(backend: Backend) -> int | None:
            strategy = backend.strategy
            for item, key in ((self.per_account_ip, pair), (self.per_ip, address)):
                if not await strategy.test(item, key):
                    reset_at, _ = await strategy.get_window_stats(item, key)
                    return math.ceil(reset_at - time.time())
            if await strategy.test(self.per_account, account):
                return None
            pair_reset, pair_left = await strategy.get_window_stats(self.per_account_ip, pair)
            if pair_left >= self.per_account_ip.amount:
                return None  # no failure of its own on this account: let it try
            account_reset, _ = await strategy.get_window_stats(self.per_account, account)
            # Refused until its own failures age out or the account's window has room again.
            return math.ceil(min(pair_reset, account_reset) - time.time())

        wait = await self.storage.run(retry_after, fail_closed=False)
        if wait is not None:
            raise TooManyAttempts(wait)

    async def failed(self, email: str, ip: str) -> None:
        pair, address, account = self._keys(email, ip)

        async def hit(backend: Backend) -> None:
            windows: tuple[tuple[RateLimitItem, str], ...] = (
                (self.per_account_ip, pair),
                (self.per_ip, address),
                (self.per_account, account),
            )
            for item, key in windows:
                await backend.strategy.hit(item, key)

        await self.storage.run(hit, fail_closed=False)

    async def succeeded(self, email: str, ip: str) -> None:
        pair, _, _ = self._keys(email, ip)

        async def clear(backend: Backend) -> None:
            await backend.strategy.clear(self.per_account_ip, pair)

        await self.storage.run(clear, fail_closed=False)
