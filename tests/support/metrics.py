"""Prometheus test helpers: a series builder for figure tests and a worker process that
writes multiprocess metrics."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from quantdesk.observability import metrics
from quantdesk.observability.figures import (
    Snapshot,
    read_snapshot,
)


class Series:
    """The series the monitor reads, on a registry of their own (the global one is shared
    by every test in the run)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ["method", "route", "status"]
        self.requests = Counter("api_requests_total", "", labels, registry=self.registry)
        self.duration = Histogram(
            "api_request_duration_seconds", "", labels, buckets=BUCKETS, registry=self.registry
        )
        self.provider = Counter(
            "provider_requests_total", "", ["provider", "kind", "status"], registry=self.registry
        )
        self.jobs = Counter("jobs_total", "", ["name", "status"], registry=self.registry)
        self.queue = Gauge("queue_length", "", ["queue"], registry=self.registry)
        self.breaker = Gauge("circuit_breaker_state", "", ["provider"], registry=self.registry)

    def serve(self, count: int, *, status: int = 200, seconds: float = 0.005) -> None:
        labels = ("GET", "/api/v1/quotes/{symbol}", str(status))
        for _ in range(count):
            self.requests.labels(*labels).inc()
            self.duration.labels(*labels).observe(seconds)

    def snapshot(self) -> Snapshot:
        return read_snapshot(self.registry.collect())


def run_worker(directory: Path, *args: str) -> None:
    env = {**os.environ, metrics.MULTIPROC_ENV: str(directory)}
    subprocess.run([sys.executable, "-c", WORKER, *args], env=env, check=True, timeout=60)


BUCKETS = (0.01, 0.1, 0.5, 1.0, 2.5)


WORKER = """
import sys
from quantdesk.observability import metrics

metrics.API_REQUESTS.labels("GET", "/api/v1/quotes/{symbol}", "200").inc(int(sys.argv[1]))
metrics.CIRCUIT_BREAKER_STATE.labels("demo").set(float(sys.argv[2]))
if sys.argv[3] == "exit":
    metrics.worker_exit()
"""
