"""Prometheus metrics: every series defined once here, the request recorder and `/metrics`.

Several workers (`quantdesk serve --workers N`)
    prometheus-client keeps counters in process memory unless ``PROMETHEUS_MULTIPROC_DIR`` names
    a directory when it is *imported*; then every process writes its values to mmap files there
    and `/metrics` (answered by any one worker) sums them with ``MultiProcessCollector``. So the
    serve command must, in the parent and before uvicorn spawns workers, call
    ``prepare_multiprocess_dir(Path("var/prometheus"))`` (or honour a directory the operator
    already exported): it empties the directory of an earlier run's files and exports the
    variable, which the spawned workers inherit. Each worker's lifespan shutdown should call
    ``worker_exit()`` so live gauges (breaker state, queue length, active signals) forget it.
    With one worker the variable may stay unset: values then live in the process.

Labels are bounded by construction: routes are *templates* (`/api/v1/quotes/{symbol}`),
unmatched paths share one label, unknown HTTP methods share one label; providers, data kinds,
rate-limit policies, roles, job names, queues and strategies come from code or settings, never
from a request.

Where each series is recorded
    * ``provider_*``: ``ProviderChain`` (marketdata/providers/chain.py), once per provider call,
      when its fetch record is written. ``status`` is the call's fetch status mapped to the
      lower-case values of the help text (PROVIDER_STATUS_LABELS): SUCCESS -> ``ok``,
      FAILED -> ``error``, TIMEOUT -> ``timeout``, RATE_LIMITED -> ``rate_limited`` (our own
      request budget being used up counts as ``rate_limited`` too). A call the breaker refuses
      sends nothing and is not counted. The duration covers the whole call, retries and
      backoff included; ``provider_retries_total`` adds the attempts after the first.
    * ``circuit_breaker_state``: ``CircuitBreaker`` (breaker.py), each time it reads or
      changes the shared state (every call checks it).
    * ``rate_limit_exceeded_total``: ``apply_rate_limits`` (ratelimit/dependencies.py), per
      429; ``policy`` is the endpoint policy's name, or ``tier:<role>`` for a role tier.
    * ``jobs_total`` / ``job_duration_seconds``: ``run_attempt`` (jobs/execution.py), per
      attempt that ran: ``status`` is ``succeeded``, ``retrying`` (it failed and will be
      retried) or ``failed``. In the distributed mode these live in the Celery worker process.
    * ``queue_length``: the in-process runner on every put and take (queue ``inprocess``);
      the Celery runner when its ``stats()`` reads the broker list (the jobs stats page), so
      an enqueue costs no extra Redis round trip.
    * ``signals_*``: ``SignalService`` (signals/service.py): generated counts by strategy and
      ``long``/``short`` on generate and refresh, the time each strategy took over all the
      instruments of one run, and ``signals_active`` from a count query after generate and
      evaluate (not after the per-request refresh: no extra query on a request path).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.types import Scope

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED_ROUTE = "unmatched"
OTHER_METHOD = "OTHER"
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Cached responses answer in well under a millisecond; provider calls and jobs take longer.
_FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_SLOW_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)

API_REQUESTS = Counter(
    "api_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
API_REQUEST_DURATION = Histogram(
    "api_request_duration_seconds",
    "Time from request to the end of the response",
    ["method", "route", "status"],
    buckets=_FAST_BUCKETS,
)
PROVIDER_REQUESTS = Counter(
    "provider_requests_total",
    "Calls to market-data providers (status: ok, error, timeout, rate_limited)",
    ["provider", "kind", "status"],
)
# FetchStatus value -> `status` label of provider_requests_total (see the module doc).
PROVIDER_STATUS_LABELS = {
    "SUCCESS": "ok",
    "FAILED": "error",
    "TIMEOUT": "timeout",
    "RATE_LIMITED": "rate_limited",
}
PROVIDER_REQUEST_DURATION = Histogram(
    "provider_request_duration_seconds",
    "Duration of one provider call",
    ["provider", "kind"],
    buckets=_FAST_BUCKETS,
)
PROVIDER_RETRIES = Counter(
    "provider_retries_total", "Provider calls retried after a temporary error", ["provider", "kind"]
)
# livemax: with per-process breakers the worst state shows; with Redis-shared breakers all agree.
CIRCUIT_BREAKER_STATE = Gauge(
    "circuit_breaker_state",
    "Provider circuit breaker: 0 closed, 1 half-open, 2 open",
    ["provider"],
    multiprocess_mode="livemax",
)
CACHE_OPERATIONS = Counter(
    "cache_operations_total",
    "Cache lookups by outcome (hit, miss, stale, error)",
    ["category", "result"],
)
RATE_LIMIT_EXCEEDED = Counter("rate_limit_exceeded_total", "Requests refused with 429", ["policy"])
JOBS = Counter("jobs_total", "Background jobs finished", ["name", "status"])
JOB_DURATION = Histogram(
    "job_duration_seconds", "Background job run time", ["name"], buckets=_SLOW_BUCKETS
)
# livemax: a shared (Redis) queue reads the same length everywhere; per-process queues show
# the longest one.
QUEUE_LENGTH = Gauge(
    "queue_length", "Jobs waiting in a queue", ["queue"], multiprocess_mode="livemax"
)
SIGNALS_GENERATED = Counter(
    "signals_generated_total", "Trading signals created", ["strategy", "direction"]
)
SIGNAL_GENERATION_DURATION = Histogram(
    "signal_generation_duration_seconds",
    "Time to evaluate one strategy over its instruments",
    ["strategy"],
    buckets=_SLOW_BUCKETS,
)
# A count read from the database by whichever process refreshed it last.
SIGNALS_ACTIVE = Gauge(
    "signals_active",
    "Signals currently active",
    ["strategy"],
    multiprocess_mode="livemostrecent",
)
DB_QUERY_DURATION = Histogram(
    "db_query_duration_seconds",
    "Database statement execution time",
    ["operation"],
    buckets=_FAST_BUCKETS,
)


# --------------------------------------------------------------------------- multiprocess


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def prepare_multiprocess_dir(path: Path) -> Path:
    """Export `path` as the metrics directory for the workers about to start (see module doc).

    Files from an earlier run would add their old counts to the new ones, so they go.
    """
    path.mkdir(parents=True, exist_ok=True)
    for leftover in path.glob("*.db"):
        leftover.unlink()
    resolved = path.resolve()
    os.environ[MULTIPROC_ENV] = str(resolved)
    return resolved


def worker_exit(pid: int | None = None) -> None:
    """Drop this worker's live-gauge files (call from the lifespan shutdown)."""
    directory = multiprocess_dir()
    if directory:
        multiprocess.mark_process_dead(pid or os.getpid(), directory)  # type: ignore[no-untyped-call]


def exposition(directory: str | None = None) -> bytes:
    """The text exposition: this process's registry, or every worker's files when a
    multiprocess directory is given or configured."""
    directory = directory or multiprocess_dir()
    if not directory:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


# --------------------------------------------------------------------------- HTTP requests


def route_template(scope: Scope, outer_root_path: str = "") -> str:
    """The matched route's path template, or UNMATCHED_ROUTE (read after routing ran)."""
    # FastAPI >= 0.16x keeps included routers nested: the full template (with every
    # prefix) lives in its effective route context, the route itself has its local path.
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    template = getattr(context, "path_format", None)
    if isinstance(template, str):
        return template
    route = scope.get("route")
    if route is not None:
        path = getattr(route, "path_format", None) or getattr(route, "path", None)
        if isinstance(path, str):
            return path
    # A Mount (static files) leaves only its prefix behind, in root_path.
    root_path = scope.get("root_path", "")
    if isinstance(root_path, str) and root_path != outer_root_path:
        return root_path[len(outer_root_path) :] + "/{path}"
    return UNMATCHED_ROUTE


class RequestMetrics:
    """Counts and times HTTP requests by method, route template and status (recorded by
    quantdesk.http.edge once the client has its answer, the 500s included)."""

    def __init__(self) -> None:
        # Label children are looked up once per (method, route, status): `.labels()` costs a
        # lock and a tuple build, a dict hit does not. Bounded: labels are bounded.
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def record(self, scope: Scope, outer_root_path: str, status: int, seconds: float) -> None:
        method = scope["method"]
        if method not in _KNOWN_METHODS:
            method = OTHER_METHOD
        key = (method, route_template(scope, outer_root_path), status)
        series = self._series.get(key)
        if series is None:
            labels = (key[0], key[1], str(status))
            series = (API_REQUESTS.labels(*labels), API_REQUEST_DURATION.labels(*labels))
            self._series[key] = series
        series[0].inc()
        series[1].observe(seconds)


# --------------------------------------------------------------------------- database


def _operation(statement: str) -> str:
    verb = statement.lstrip()[:6].lower()
    return verb if verb in {"select", "insert", "update", "delete"} else "other"


def instrument_engine(engine: Engine) -> None:
    """Time every statement on `engine` (pass `AsyncEngine.sync_engine` for async engines)."""

    @event.listens_for(engine, "before_cursor_execute")
    def _started(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("quantdesk_query_started", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _finished(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started = conn.info.get("quantdesk_query_started")
        if started:
            DB_QUERY_DURATION.labels(_operation(statement)).observe(
                time.perf_counter() - started.pop()
            )
