"""Provider errors, sorted by what to do about them (ARCHITECTURE.md, "Decisions").

* `TemporaryProviderError` (timeouts, connection errors, 5xx): retry with backoff and jitter.
* `RateLimitedError` (429): back off, waiting at least the provider's Retry-After.
* `PermanentProviderError` (bad key, malformed body, unknown symbol, and `ProviderUnreachable`:
  connection refused or host not resolved, i.e. offline): stop, report, fall back.

`trips_breaker` says whether the failure speaks about the provider's health: an unknown symbol
is the caller's problem and must not open the breaker; a malformed body or a bad API key is
the provider's. The chain-level errors at the bottom are what services see.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from quantdesk.errors import AppError, NotFound, ServiceUnavailable, Unprocessable, field_error
from quantdesk.models import FetchStatus


class ProviderError(Exception):
    trips_breaker: bool = True
    status: FetchStatus = FetchStatus.FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TemporaryProviderError(ProviderError):
    """Worth retrying: the same request may well succeed in a moment."""


class ProviderTimeout(TemporaryProviderError):
    status = FetchStatus.TIMEOUT


class RateLimitedError(TemporaryProviderError):
    """The provider (429) or our own request budget refused; `retry_after` in seconds."""

    status = FetchStatus.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BudgetExhausted(RateLimitedError):
    """Our own concurrency or rate budget for the provider is used up: nothing was sent, so
    the provider's health is not in question."""

    trips_breaker = False


class PermanentProviderError(ProviderError):
    """Retrying the same request will not help."""


class MalformedResponse(PermanentProviderError):
    """The body is not in the provider's documented format."""


class ProviderDataNotFound(PermanentProviderError):
    """The provider does not have what was asked (unknown symbol, series, feed)."""

    trips_breaker = False


class ProviderUnreachable(PermanentProviderError):
    """No connection could be made at all (connection refused, host name not resolved, no
    route): this machine is offline or the address is wrong. Not retried on the spot (it
    would fail the same way at once); it counts against the provider's health."""


class ProviderNotConfigured(PermanentProviderError):
    """A setting the provider needs (API key, URL) is missing."""


class CircuitOpen(ProviderError):
    """The breaker refused the call; nothing was sent."""

    trips_breaker = False


# --- What services and endpoints see -------------------------------------------------------


class NoProviderAnswered(ServiceUnavailable):
    code = "providers-unavailable"

    def __init__(
        self,
        kind: str,
        subject: str | None,
        trace: Sequence[dict[str, Any]],
        *,
        offline: bool = False,
    ) -> None:
        what = f"{kind} for {subject!r}" if subject else kind
        tried = ", ".join(f"{step['provider']}: {step['error']}" for step in trace) or "none"
        super().__init__(
            f"no provider could answer {what} (tried {tried})",
            errors=[
                {"loc": ["provider", step["provider"]], "msg": step["error"], "type": "provider"}
                for step in trace
            ],
        )
        self.trace = list(trace)
        # Every provider was unreachable (or its breaker open after being so): no connection
        # could be made, so trying again at once cannot help.
        self.offline = offline


class NoProviderConfigured(ServiceUnavailable):
    code = "no-provider-configured"

    def __init__(self, kind: str) -> None:
        super().__init__(
            f"no provider is configured for {kind}; set QUANTDESK_PROVIDERS_{kind.upper()}"
        )


class UnknownProvider(Unprocessable):
    code = "unknown-provider"

    def __init__(self, name: str, kind: str, known: Sequence[str]) -> None:
        super().__init__(
            f"provider {name!r} does not serve {kind}; configured: {', '.join(known) or 'none'}",
            errors=[field_error(["query", "provider"], f"one of {', '.join(known) or 'none'}")],
        )


class ProviderRefused(AppError):
    """An explicitly named provider failed: no silent fallback, so its error is the answer."""

    status, code, title = 502, "provider-failed", "Bad Gateway"

    def __init__(self, provider: str, error: ProviderError) -> None:
        headers = {}
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            headers["Retry-After"] = str(max(1, round(error.retry_after)))
        if isinstance(error, RateLimitedError | CircuitOpen):
            self.status, self.code, self.title = 503, "provider-unavailable", "Service Unavailable"
        super().__init__(f"provider {provider!r} failed: {error.message}", headers=headers)
        self.provider = provider
        self.error = error


class ProviderSubjectNotFound(NotFound):
    """An explicitly named provider does not have the subject."""

    code = "provider-data-not-found"
