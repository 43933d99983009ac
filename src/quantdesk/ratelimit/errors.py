"""Rate-limit errors; the app's AppError handler renders them as problem+json with headers."""

from __future__ import annotations

from quantdesk.errors import AppError, ServiceUnavailable


class RateLimited(AppError):
    status, code, title = 429, "rate-limited", "Too Many Requests"


class RateLimitUnavailable(ServiceUnavailable):
    """The shared limit store is unreachable and this route refuses to run without it."""

    code = "rate-limit-unavailable"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "rate limits cannot be enforced right now (shared store unreachable); "
            "this operation is refused until they can, retry shortly",
            headers={"Retry-After": str(max(1, retry_after))},
        )
        self.retry_after = max(1, retry_after)
