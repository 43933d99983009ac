"""One HTTP attempt of a delivery, and the retry rule that follows a failed one."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from quantdesk.webhooks import signing

# A `Retry-After` asking for longer than the schedule's step is honoured up to this long.
RETRY_AFTER_MAX_SECONDS = 3600.0
_KEPT_HEADERS = ("content-type", "retry-after", "location")


@dataclass(frozen=True, slots=True)
class AttemptResult:
    started_at: datetime
    latency_ms: int
    status_code: int | None
    response: str | None
    headers: dict[str, str] | None
    error: str | None
    retry_after: float | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or an HTTP date), None if absent or
    unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return max(0.0, (at - (now or datetime.now(UTC))).total_seconds())


def retry_delay(
    attempts_made: int,
    schedule: list[float],
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds until the next attempt after `attempts_made` attempts failed, or None when
    the schedule is exhausted. Each step is jittered +-20%; `Retry-After` can only push the
    next attempt later (up to RETRY_AFTER_MAX_SECONDS), never sooner than the schedule."""
    if attempts_made < 1 or attempts_made > len(schedule):
        return None
    delay = schedule[attempts_made - 1] * (rng or random).uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_MAX_SECONDS))
    return delay


def _error_text(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:500]


async def attempt(
    client: httpx.AsyncClient,
    url: str,
    msg_id: str,
    body: bytes,
    secrets_in_force: list[str],
    max_response_bytes: int,
) -> AttemptResult:
    """POST the signed body once; never raises for anything the network or receiver does."""
    started = datetime.now(UTC)
    clock = time.perf_counter()
    headers = signing.headers(secrets_in_force, msg_id, int(time.time()), body)
    try:
        async with client.stream("POST", url, content=body, headers=headers) as response:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                if size >= max_response_bytes:
                    break
                chunks.append(chunk)
                size += len(chunk)
        latency = int((time.perf_counter() - clock) * 1000)
        text = b"".join(chunks)[:max_response_bytes].decode("utf-8", "replace")
        kept = {k: response.headers[k] for k in _KEPT_HEADERS if k in response.headers}
        return AttemptResult(
            started,
            latency,
            response.status_code,
            text,
            kept or None,
            None,
            parse_retry_after(response.headers.get("retry-after")),
        )
    except (httpx.HTTPError, OSError, ValueError) as error:
        latency = int((time.perf_counter() - clock) * 1000)
        return AttemptResult(started, latency, None, None, None, _error_text(error), None)
