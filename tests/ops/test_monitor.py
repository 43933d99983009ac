"""The performance monitor: levels from thresholds, one alert per state change with a
cooldown, every alert stored, logged and delivered to real channels (HTTP servers on
127.0.0.1, the file mail backend), a broken channel recorded and never raised."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.models import AlertEvent, AlertLevel
from quantdesk.observability.figures import API_ERROR_RATE, QUEUE_LENGTH, Figure, read_snapshot
from quantdesk.observability.logging import configure_logging
from quantdesk.observability.metrics import MULTIPROC_ENV
from quantdesk.ops.alert_service import alert_service
from quantdesk.ops.monitor import (
    PerformanceMonitor,
    WorkerClaim,
    performance_monitor,
    registry_samples,
)
from tests.support.metrics import Series, run_worker
from tests.support.secrets_watch import remember
from tests.support.settings import make_settings

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class HookServer:
    """Records the JSON bodies POSTed to it; answers `status` (a webhook endpoint)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, Any]] = []
        self.status = 200
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                server.received.append((self.path, json.loads(body)))
                self.send_response(server.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def bodies(self, path: str) -> list[Any]:
        return [body for seen, body in self.received if seen == path]


@pytest.fixture
def hooks() -> Iterator[HookServer]:
    server = HookServer()
    thread = threading.Thread(
        target=server.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Database]:
    """A migrated database (SQLite and PostgreSQL) without an app around it."""
    db = Database(make_settings(database_url))
    yield db
    await db.dispose()


def monitor_settings(db: Database, **overrides: Any) -> Settings:
    defaults: dict[str, Any] = {
        # explicit: `quantdesk serve` run in-process by another test exports it as true
        "monitor_enabled": False,
        "monitor_window_seconds": 60,
        "monitor_min_samples": 10,
        "alert_cooldown_seconds": 300,
    }
    return make_settings(db.url, **{**defaults, **overrides})


async def history(db: Database, **filters: Any) -> list[AlertEvent]:
    async with db.session() as session:
        rows, _ = await alert_service.search(session, limit=100, **filters)
    return list(reversed(rows))  # oldest first


async def test_error_rate_goes_warning_then_critical_then_resolved(store: Database) -> None:
    series, clock = Series(), Clock()
    monitor = PerformanceMonitor(
        monitor_settings(store, monitor_thresholds={"api_error_rate": (0.05, 0.25)}),
        store,
        collect=series.registry.collect,
        clock=clock,
        channels=[],
    )
    series.serve(50, status=500)  # before the monitor started: never part of a window
    assert await monitor.tick() == []

    clock.advance(30)
    series.serve(90)
    series.serve(10, status=500)
    [warning] = await monitor.tick()
    assert (warning.level, warning.previous_level) == (AlertLevel.WARNING, AlertLevel.OK)
    assert warning.value == pytest.approx(0.10)
    assert warning.threshold == 0.05
    assert warning.message == "api_error_rate is warning: 10.0% (threshold 5.0%)"

    clock.advance(30)  # inside the cooldown, but an escalation to critical is not held back
    series.serve(40)
    series.serve(60, status=502)
    [critical] = await monitor.tick()
    assert (critical.level, critical.previous_level) == (AlertLevel.CRITICAL, AlertLevel.WARNING)
    assert critical.value == pytest.approx(70 / 200)  # the 60 s window spans both batches
    assert critical.details["window_seconds"] == 60
    assert critical.threshold == 0.25

    clock.advance(30)
    series.serve(200)  # 60/300 in the window: back under critical, but inside the cooldown
    assert await monitor.tick() == []

    clock.advance(300)
    series.serve(200)
    [resolved] = await monitor.tick()
    assert (resolved.level, resolved.previous_level) == (AlertLevel.RESOLVED, AlertLevel.CRITICAL)
    assert resolved.value == 0
    assert "back to normal" in resolved.message

    stored = await history(store)
    assert [(a.metric, a.level) for a in stored] == [
        (API_ERROR_RATE, AlertLevel.WARNING),
        (API_ERROR_RATE, AlertLevel.CRITICAL),
        (API_ERROR_RATE, AlertLevel.RESOLVED),
    ]
    assert [a.created_at for a in stored] == [
        START + timedelta(seconds=30),
        START + timedelta(seconds=60),
        START + timedelta(seconds=390),
    ]
    assert stored[0].instance == monitor.instance


async def test_a_metric_flapping_around_its_threshold_alerts_once_per_cooldown(
    store: Database,
) -> None:
    clock = Clock()
    monitor = PerformanceMonitor(
        monitor_settings(store, monitor_thresholds={"queue_length": (100, 500)}),
        store,
        collect=list,
        clock=clock,
        channels=[],
    )

    async def queue(length: float | None, after: float = 30) -> list[AlertEvent]:
        clock.advance(after)
        return await monitor.evaluate({QUEUE_LENGTH: Figure(length)})

    assert [a.level for a in await queue(150)] == [AlertLevel.WARNING]
    for length in (20, 150, 20, 150, 20):  # every 30 s, well inside the 300 s cooldown
        assert await queue(length) == []
    assert monitor.states[QUEUE_LENGTH].level is AlertLevel.WARNING
    assert [a.level for a in await queue(20, after=300)] == [AlertLevel.RESOLVED]
    assert await queue(150) == []  # the cooldown starts again with the resolved alert
    assert [a.level for a in await queue(900)] == [AlertLevel.CRITICAL]  # escalation
    # no data (no queue reported) counts as normal, once the cooldown allows it
    assert await queue(None) == []
    assert [a.level for a in await queue(None, after=300)] == [AlertLevel.RESOLVED]
    assert len(await history(store, metric=QUEUE_LENGTH)) == 4


async def test_a_threshold_set_to_null_is_not_watched(store: Database) -> None:
    monitor = PerformanceMonitor(
        monitor_settings(store, monitor_thresholds={"queue_length": None}),
        store,
        collect=list,
        channels=[],
    )
    assert QUEUE_LENGTH not in monitor.thresholds
    assert await monitor.evaluate({QUEUE_LENGTH: Figure(10_000)}) == []


@pytest.mark.parametrize(
    "thresholds",
    [{"p99_latency": (1, 2)}, {"queue_length": (500, 100)}, {"api_error_rate": (-1, 0.5)}],
)
def test_settings_refuse_unknown_metrics_and_inverted_levels(thresholds: Any) -> None:
    with pytest.raises(ValidationError, match="monitor_thresholds"):
        make_settings("sqlite+aiosqlite://", monitor_thresholds=thresholds)


def _eml(directory: Path) -> list[Message]:
    return [message_from_bytes(path.read_bytes()) for path in sorted(directory.glob("*.eml"))]


async def test_alerts_reach_webhook_slack_and_email(
    store: Database, hooks: HookServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    slack_secret = "T0123/B0456/" + "x" * 24
    remember(slack_secret)  # the log check at the end of the run must not find it anywhere
    settings = monitor_settings(
        store,
        alert_webhook_url=f"{hooks.url}/hook",
        alert_slack_webhook_url=f"{hooks.url}/services/{slack_secret}",
        alert_email_to="ops@example.com, oncall@example.com",
        mail_dir=tmp_path / "mail",
    )
    configure_logging(settings)  # the run's log check reads what quantdesk's handler writes
    async with performance_monitor(settings, store) as monitor:
        assert not monitor.running  # monitor_enabled is off: nothing ticks by itself
        figures = {QUEUE_LENGTH: Figure(640, {"queue": "inprocess"})}
        with caplog.at_level(logging.INFO, logger="httpx"):
            [alert] = await monitor.evaluate(figures, now=START)

    # httpx logs each request's URL: the Slack one is a credential and shows masked
    requests = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any(f"{hooks.url}/[REDACTED]" in line for line in requests), requests
    assert not any(slack_secret in line for line in requests)

    [body] = hooks.bodies("/hook")
    assert body["source"] == "quantdesk"
    assert body["id"] == alert.id
    assert body["metric"] == "queue_length"
    assert body["level"] == "critical"
    assert body["previous_level"] == "ok"
    assert body["value"] == 640
    assert body["threshold"] == 500
    assert body["created_at"] == "2026-01-05T12:00:00Z"
    assert body["details"]["queue"] == "inprocess"

    [slack] = hooks.bodies(f"/services/{slack_secret}")
    assert list(slack) == ["text"]
    assert "*CRITICAL* queue_length is critical: 640 (threshold 500)" in slack["text"]

    [mail] = _eml(tmp_path / "mail")
    assert mail["To"] == "ops@example.com, oncall@example.com"
    assert mail["Subject"] == "[quantdesk] CRITICAL: queue_length"
    text = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "queue_length is critical: 640" in text
    assert f"alert id:  {alert.id}" in text

    [stored] = await history(store)
    assert stored.deliveries == [
        {"channel": "webhook", "ok": True},
        {"channel": "slack", "ok": True},
        {"channel": "email", "ok": True},
    ]


async def test_a_failing_channel_is_recorded_and_the_others_still_deliver(
    store: Database, hooks: HookServer, tmp_path: Path
) -> None:
    hooks.status = 500
    closed = HookServer()  # bound, then closed: nothing listens on its port
    closed.httpd.server_close()
    secret = "T9/B9/" + "s" * 24
    remember(secret)
    settings = monitor_settings(
        store,
        alert_webhook_url=f"{hooks.url}/hook",
        alert_slack_webhook_url=f"{closed.url}/services/{secret}",
        alert_email_to="ops@example.com",
        mail_dir=tmp_path / "mail",
    )
    async with performance_monitor(settings, store) as monitor:
        [alert] = await monitor.evaluate({API_ERROR_RATE: Figure(0.5, {"samples": 80})})

    assert alert.level is AlertLevel.CRITICAL
    [stored] = await history(store)
    webhook, slack, email = stored.deliveries
    assert webhook == {"channel": "webhook", "ok": False, "error": "HTTP 500"}
    assert slack["channel"] == "slack"
    assert slack["ok"] is False
    assert slack["error"].startswith("ConnectError")
    assert secret not in slack["error"]
    assert email == {"channel": "email", "ok": True}
    assert len(_eml(tmp_path / "mail")) == 1
    # the state moved on: the failed delivery is not re-sent on the next tick
    assert monitor.states[API_ERROR_RATE].level is AlertLevel.CRITICAL


async def test_the_lifespan_runs_the_monitor_only_when_enabled(store: Database) -> None:
    async with performance_monitor(monitor_settings(store), store) as idle:
        assert not idle.running
    settings = monitor_settings(store, monitor_enabled=True, monitor_interval_seconds=0.01)
    async with performance_monitor(settings, store) as monitor:
        assert monitor.running
        for _ in range(500):  # bounded: a tick reads the process registry and returns
            if monitor.last_tick_at is not None:
                break
            await asyncio.sleep(0.01)
        assert monitor.last_tick_at is not None
    assert not monitor.running


def test_one_worker_at_a_time_holds_the_monitor(tmp_path: Path) -> None:
    first, second = WorkerClaim(str(tmp_path)), WorkerClaim(str(tmp_path))
    assert first.acquire()
    assert first.acquire()  # held: asking again is free
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()
    assert WorkerClaim(None).acquire()  # one process, no directory: always monitors


def test_with_several_workers_the_monitor_reads_all_of_their_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_worker(tmp_path, "3", "2", "stay")  # two workers' files: requests add up
    run_worker(tmp_path, "4", "0", "stay")
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    snapshot = read_snapshot(registry_samples())
    assert snapshot.api_requests == 7
    assert snapshot.open_breakers == ("demo",)  # livemax: the worst state shows
