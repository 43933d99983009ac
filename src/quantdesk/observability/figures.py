"""The figures the performance monitor watches, computed from Prometheus samples.

Pure: samples in (whatever `CollectorRegistry.collect()` yields, this process's registry or
the multiprocess files), numbers out. Counters and histograms only ever grow, so a figure
"over the last N seconds" is the difference between two snapshots N seconds apart, the way
Prometheus' `rate()` and `histogram_quantile()` see them. Gauges are read as they are now.

Figures (all "higher is worse"; thresholds are `(warning, critical)`, a figure at or above a
level is in it):

* `api_latency_p95_seconds`: 95th percentile of `api_request_duration_seconds` over the
  window, linearly interpolated inside the bucket (as `histogram_quantile` does), so it is
  only as fine as the buckets (metrics.py `_FAST_BUCKETS`).
* `api_error_rate`: the 5xx share of `api_requests_total` in the window (0..1).
* `provider_failure_rate`: the share of `provider_requests_total` whose status is not `ok`.
* `jobs_failed`: `jobs_total{status="failed"}` in the window (a job out of retries).
* `queue_length`: the longest `queue_length` gauge now.
* `circuit_breakers_open`: how many `circuit_breaker_state` gauges read open (2) now.

Rates and the percentile need `min_samples` requests (calls) in the window; below that the
figure is None ("no data"), so one 500 among three requests at night does not page anybody.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from quantdesk.config import (
    API_ERROR_RATE,
    API_LATENCY_P95,
    BREAKERS_OPEN,
    DEFAULT_THRESHOLDS,
    JOBS_FAILED,
    PROVIDER_FAILURE_RATE,
    QUEUE_LENGTH,
)

__all__ = [
    "API_ERROR_RATE",
    "API_LATENCY_P95",
    "BREAKERS_OPEN",
    "DEFAULT_THRESHOLDS",
    "JOBS_FAILED",
    "PROVIDER_FAILURE_RATE",
    "QUEUE_LENGTH",
]

UNITS: dict[str, str] = {
    API_LATENCY_P95: "seconds",
    API_ERROR_RATE: "ratio",
    PROVIDER_FAILURE_RATE: "ratio",
    JOBS_FAILED: "count",
    QUEUE_LENGTH: "count",
    BREAKERS_OPEN: "count",
}
PROVIDER_SUCCESS = "ok"
BREAKER_OPEN = 2.0


class Sample(Protocol):
    """What prometheus_client's `Sample` offers (a named tuple)."""

    @property
    def name(self) -> str: ...
    @property
    def labels(self) -> dict[str, str]: ...
    @property
    def value(self) -> float: ...


class MetricFamily(Protocol):
    @property
    def samples(self) -> Sequence[Sample]: ...


@dataclass(frozen=True)
class Snapshot:
    """The monitored series at one moment, summed over their labels."""

    api_requests: float = 0.0
    api_errors: float = 0.0
    # (upper bound, cumulative count) ascending, +Inf last; empty before any request.
    api_latency_buckets: tuple[tuple[float, float], ...] = ()
    provider_calls: float = 0.0
    provider_failures: float = 0.0
    jobs_failed: float = 0.0
    queue_lengths: Mapping[str, float] = field(default_factory=dict)
    open_breakers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Figure:
    value: float | None  # None: not enough data in the window
    details: dict[str, Any] = field(default_factory=dict)


def read_snapshot(families: Iterable[MetricFamily]) -> Snapshot:
    """Pick the monitored series out of a registry's metric families (by sample name, which
    is the same in-process and in multiprocess collection)."""
    requests = errors = calls = failures = jobs_failed = 0.0
    buckets: dict[float, float] = {}
    queues: dict[str, float] = {}
    open_breakers: list[str] = []
    for family in families:
        for sample in family.samples:
            name, labels, value = sample.name, sample.labels, float(sample.value)
            if name == "api_requests_total":
                requests += value
                if labels.get("status", "").startswith("5"):
                    errors += value
            elif name == "api_request_duration_seconds_bucket":
                bound = float(labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + value
            elif name == "provider_requests_total":
                calls += value
                if labels.get("status", "").lower() != PROVIDER_SUCCESS:
                    failures += value
            elif name == "jobs_total":
                if labels.get("status") == "failed":
                    jobs_failed += value
            elif name == "queue_length":
                queue = labels.get("queue", "")
                queues[queue] = max(queues.get(queue, value), value)
            elif name == "circuit_breaker_state" and value >= BREAKER_OPEN:
                open_breakers.append(labels.get("provider", ""))
    return Snapshot(
        api_requests=requests,
        api_errors=errors,
        api_latency_buckets=tuple(sorted(buckets.items())),
        provider_calls=calls,
        provider_failures=failures,
        jobs_failed=jobs_failed,
        queue_lengths=queues,
        open_breakers=tuple(sorted(set(open_breakers))),
    )


def _delta(now: float, then: float) -> float:
    # A counter that went down was reset (a process restarted): count from zero.
    return now - then if now >= then else now


def _bucket_deltas(
    now: Sequence[tuple[float, float]], then: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    before = dict(then)
    deltas = [(bound, count - before.get(bound, 0.0)) for bound, count in now]
    if any(count < 0 for _, count in deltas):
        return list(now)  # reset: the current counts are the window
    return deltas


def bucket_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """`histogram_quantile(q, ...)` over cumulative (upper bound, count) buckets, +Inf last.

    The quantile falls in the first bucket whose count reaches rank q * total; the value is
    interpolated linearly between that bucket's bounds. In the +Inf bucket it is the largest
    finite bound (nothing better is known). None without observations.
    """
    if not buckets or not math.isinf(buckets[-1][0]) or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return None


def _rate(part: float, total: float, min_samples: int) -> Figure:
    details = {"samples": int(total)}
    return Figure(part / total if total >= min_samples else None, details)


def window_figures(now: Snapshot, then: Snapshot | None, *, min_samples: int) -> dict[str, Figure]:
    """Every figure, the windowed ones between `then` and `now` (None without a `then`)."""
    figures: dict[str, Figure] = {}
    if then is None:
        for name in (API_LATENCY_P95, API_ERROR_RATE, PROVIDER_FAILURE_RATE, JOBS_FAILED):
            figures[name] = Figure(None, {"samples": 0})
    else:
        buckets = _bucket_deltas(now.api_latency_buckets, then.api_latency_buckets)
        observed = buckets[-1][1] if buckets else 0.0
        p95 = bucket_quantile(0.95, buckets) if observed >= min_samples else None
        figures[API_LATENCY_P95] = Figure(p95, {"samples": int(observed)})
        requests = _delta(now.api_requests, then.api_requests)
        errors = min(_delta(now.api_errors, then.api_errors), requests)
        figures[API_ERROR_RATE] = _rate(errors, requests, min_samples)
        calls = _delta(now.provider_calls, then.provider_calls)
        failures = min(_delta(now.provider_failures, then.provider_failures), calls)
        figures[PROVIDER_FAILURE_RATE] = _rate(failures, calls, min_samples)
        figures[JOBS_FAILED] = Figure(_delta(now.jobs_failed, then.jobs_failed))
    if now.queue_lengths:
        queue, length = max(now.queue_lengths.items(), key=lambda item: item[1])
        figures[QUEUE_LENGTH] = Figure(length, {"queue": queue})
    else:
        figures[QUEUE_LENGTH] = Figure(None)
    figures[BREAKERS_OPEN] = Figure(
        float(len(now.open_breakers)), {"providers": list(now.open_breakers)}
    )
    return figures


def format_value(metric: str, value: float | None) -> str:
    if value is None:
        return "no data"
    unit = UNITS.get(metric)
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "seconds":
        return f"{value * 1000:.3g} ms" if value < 1 else f"{value:.2f} s"
    return f"{value:g}"
