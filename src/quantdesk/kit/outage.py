"""Outage bookkeeping for a shared store that may stop answering (Redis behind the rate
limiter, the cache and the provider state store).

The first failure marks the store down; callers then leave it alone for `retry_seconds`
(working per process or answering misses meanwhile) and let one request probe it again; the
first success ends the outage. What "leave it alone" means, and the log lines, stay with each
store: this keeps the clock.
"""

from __future__ import annotations

import math
import time


class Outage:
    def __init__(self, *, retry_seconds: float) -> None:
        self.retry_seconds = retry_seconds
        self.since: float | None = None  # time.monotonic() of the first failure
        self.next_probe = 0.0
        self.probing = False  # one probe at a time

    @property
    def degraded(self) -> bool:
        return self.since is not None

    def wait_before_probe(self) -> bool:
        """True while degraded and a probe is not yet due (or one is under way)."""
        return self.since is not None and (self.probing or time.monotonic() < self.next_probe)

    def retry_after(self) -> int:
        """Whole seconds until the next probe (at least 1), for Retry-After."""
        return max(1, math.ceil(self.next_probe - time.monotonic()))

    def failed(self) -> bool:
        """Record a failure; True when it starts an outage (log it then, once)."""
        self.next_probe = time.monotonic() + self.retry_seconds
        if self.since is not None:
            return False
        self.since = time.monotonic()
        return True

    def succeeded(self) -> float | None:
        """Record a success; the outage's length in seconds when this one ended it."""
        if self.since is None:
            return None
        outage, self.since = time.monotonic() - self.since, None
        return outage
