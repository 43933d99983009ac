"""The performance monitor: thresholds on live metric figures, alerts on every state change.

    async with performance_monitor(settings, db) as monitor:
        app.state.monitor = monitor

Every `monitor_interval_seconds` it reads the Prometheus registry (this process's, or every
worker's files in multiprocess mode), computes the figures of observability/figures.py over
the trailing `monitor_window_seconds`, and puts each watched metric in a level: ok, warning
or critical (`(warning, critical)` thresholds, built-in defaults overridden by
`monitor_thresholds`). A metric without a figure (too little traffic) counts as ok.

One alert per state change: ok -> warning, warning -> critical, critical -> resolved, ...
After an alert about a metric, further changes of that metric wait `alert_cooldown_seconds`
(the state is re-evaluated at each tick, so a change that is over by then is never sent),
except an escalation to critical, which is never held back. Each alert is stored in
`alert_events`, logged (critical as error, warning as warning, resolved as info) and sent to
every configured channel (ops/alerts.py); deliveries are recorded on the row.

The monitor runs only when `monitor_enabled` (which `quantdesk serve` sets); disabled, the
object still exists so `/admin/monitor` can say so and tests can call `tick()` themselves.
With several workers sharing a multiprocess metrics directory, one worker at a time monitors
(an advisory file lock there; another takes over when that worker goes away), so each alert
is raised once. Separate replicas each watch their own process group and say which in
`instance`.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import httpx
from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

from quantdesk.config import DEFAULT_THRESHOLDS, Settings
from quantdesk.db import Database
from quantdesk.infra.mail import MailBackend, mail_backend
from quantdesk.models import AlertEvent, AlertLevel, utcnow
from quantdesk.observability.figures import (
    Figure,
    MetricFamily,
    Snapshot,
    format_value,
    read_snapshot,
    window_figures,
)
from quantdesk.observability.logging import get_logger
from quantdesk.observability.metrics import multiprocess_dir
from quantdesk.ops.alert_service import alert_service
from quantdesk.ops.alerts import (
    Alert,
    AlertChannel,
    channels_from_settings,
    deliver,
)

log = get_logger("quantdesk.monitor")
LOCK_FILE = "monitor.lock"
_RANK = {AlertLevel.OK: 0, AlertLevel.WARNING: 1, AlertLevel.CRITICAL: 2}


@dataclass(frozen=True)
class Threshold:
    warning: float
    critical: float

    def level(self, value: float | None) -> AlertLevel:
        if value is None or value < self.warning:
            return AlertLevel.OK
        return AlertLevel.CRITICAL if value >= self.critical else AlertLevel.WARNING

    def bound(self, level: AlertLevel) -> float:
        # A resolved alert names the level it fell below: the warning threshold.
        return self.critical if level is AlertLevel.CRITICAL else self.warning


@dataclass
class MetricState:
    level: AlertLevel = AlertLevel.OK  # the level last announced
    last_alert_at: datetime | None = None
    figure: Figure | None = None  # the latest figure, announced or not


def thresholds_from_settings(settings: Settings) -> dict[str, Threshold]:
    levels: dict[str, tuple[float, float] | None] = {
        **DEFAULT_THRESHOLDS,
        **settings.monitor_thresholds,
    }
    return {name: Threshold(*pair) for name, pair in levels.items() if pair is not None}


def registry_samples() -> list[MetricFamily]:
    """The live metric families: every worker's files in multiprocess mode, else this
    process's registry."""
    directory = multiprocess_dir()
    if not directory:
        return list(REGISTRY.collect())
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return list(registry.collect())


class WorkerClaim:
    """Which worker monitors when several share a multiprocess directory: whoever holds an
    exclusive `flock` on its lock file. The kernel drops the lock when that process dies, so
    the next worker to try takes over. Without a directory (one process) it always holds."""

    def __init__(self, directory: str | None) -> None:
        self.path = Path(directory) / LOCK_FILE if directory else None
        self._file: IO[bytes] | None = None

    def acquire(self) -> bool:
        if self.path is None or self._file is not None:
            return True
        try:
            import fcntl
        except ImportError:  # no flock (Windows): every worker monitors
            return True
        file = self.path.open("a+b")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            file.close()
            return False
        self._file = file
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the descriptor releases the flock
            self._file = None


class PerformanceMonitor:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        collect: Callable[[], Iterable[MetricFamily]] = registry_samples,
        clock: Callable[[], datetime] = utcnow,
        channels: list[AlertChannel] | None = None,
        mail: MailBackend | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.thresholds = thresholds_from_settings(settings)
        self.states = {metric: MetricState() for metric in self.thresholds}
        self.instance = f"{socket.gethostname()}:{os.getpid()}"
        self.last_tick_at: datetime | None = None
        self._collect = collect
        self._clock = clock
        self._history: deque[tuple[datetime, Snapshot]] = deque()
        self._http: httpx.AsyncClient | None = None
        if channels is None:
            # A client only for webhooks: every app (and every test) builds a monitor.
            if settings.alert_webhook_url or settings.alert_slack_webhook_url:
                self._http = httpx.AsyncClient(timeout=settings.alert_timeout_seconds)
            channels = channels_from_settings(
                settings, http=self._http, mail=mail or mail_backend(settings)
            )
        self.channels = channels
        self._claim = WorkerClaim(multiprocess_dir())
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # ------------------------------------------------------------------ figures

    def _baseline(self, now: datetime) -> tuple[datetime, Snapshot] | None:
        """The newest snapshot at least one window old (the oldest one while the monitor is
        younger than a window); older ones are no longer needed."""
        cutoff = self.settings.monitor_window_seconds
        while len(self._history) > 1 and (now - self._history[1][0]).total_seconds() >= cutoff:
            self._history.popleft()
        return self._history[0] if self._history else None

    async def _snapshot(self) -> Snapshot:
        return read_snapshot(await asyncio.to_thread(lambda: list(self._collect())))

    async def prime(self) -> None:
        """Take the first window's starting point without judging anything yet."""
        self._history.append((self._clock(), await self._snapshot()))

    async def tick(self) -> list[AlertEvent]:
        """Read the metrics once and raise whatever alerts the figures call for."""
        now = self._clock()
        snapshot = await self._snapshot()
        baseline = self._baseline(now)
        figures = window_figures(
            snapshot,
            baseline[1] if baseline else None,
            min_samples=self.settings.monitor_min_samples,
        )
        window = (now - baseline[0]).total_seconds() if baseline else 0.0
        self._history.append((now, snapshot))
        self.last_tick_at = now
        return await self.evaluate(figures, now=now, window_seconds=window)

    # ------------------------------------------------------------------ levels and alerts

    async def evaluate(
        self,
        figures: Mapping[str, Figure],
        *,
        now: datetime | None = None,
        window_seconds: float | None = None,
    ) -> list[AlertEvent]:
        """Compare figures with the thresholds; one alert per metric whose level changed
        (and may be announced now). Metrics missing from `figures` count as no data."""
        now = now or self._clock()
        raised: list[AlertEvent] = []
        for metric, threshold in self.thresholds.items():
            state = self.states[metric]
            figure = figures.get(metric) or Figure(None)
            state.figure = figure
            level = threshold.level(figure.value)
            if level is state.level:
                continue
            if not self._may_announce(state, level, now):
                log.debug("alert held back by cooldown", metric=metric, level=level.value)
                continue
            raised.append(
                await self._raise(metric, threshold, figure, state, level, now, window_seconds)
            )
        return raised

    def _may_announce(self, state: MetricState, level: AlertLevel, now: datetime) -> bool:
        if level is AlertLevel.CRITICAL and _RANK[level] > _RANK[state.level]:
            return True  # an escalation is news however recent the last alert
        if state.last_alert_at is None:
            return True
        waited = (now - state.last_alert_at).total_seconds()
        return waited >= self.settings.alert_cooldown_seconds

    async def _raise(
        self,
        metric: str,
        threshold: Threshold,
        figure: Figure,
        state: MetricState,
        level: AlertLevel,
        now: datetime,
        window_seconds: float | None,
    ) -> AlertEvent:
        announced = AlertLevel.RESOLVED if level is AlertLevel.OK else level
        bound = threshold.bound(level)
        message = _message(metric, announced, state.level, figure.value, bound)
        details: dict[str, Any] = {
            **figure.details,
            "warning": threshold.warning,
            "critical": threshold.critical,
        }
        if window_seconds is not None:
            details["window_seconds"] = round(window_seconds, 3)
        async with self.db.session() as session:
            event = await alert_service.record(
                session,
                metric=metric,
                level=announced,
                previous_level=state.level,
                value=figure.value,
                threshold=bound,
                message=message,
                instance=self.instance,
                details=details,
                created_at=now,
            )
        # Announced once stored: a failed write leaves the state as it was, so the next tick
        # tries again.
        state.level = level
        state.last_alert_at = now
        fields = {"metric": metric, "level": announced.value, "value": figure.value}
        if announced is AlertLevel.CRITICAL:
            log.error("alert", alert_id=event.id, message=message, **fields)
        elif announced is AlertLevel.WARNING:
            log.warning("alert", alert_id=event.id, message=message, **fields)
        else:
            log.info("alert", alert_id=event.id, message=message, **fields)
        if self.channels:
            event.deliveries = await deliver(
                self.channels, Alert.from_event(event), seconds=self.settings.alert_timeout_seconds
            )
            async with self.db.session() as session:
                await alert_service.set_deliveries(session, event.id, event.deliveries)
        return event

    # ------------------------------------------------------------------ background task

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="monitor")

    async def _run(self) -> None:
        interval = self.settings.monitor_interval_seconds
        primed = False
        while True:
            if self._claim.acquire():
                try:
                    # The first pass only primes: a judgement needs a window to look back on.
                    await (self.tick() if primed else self.prime())
                    primed = True
                except Exception as error:  # the monitor outlives a bad tick
                    log.error("monitor tick failed", error=f"{type(error).__name__}: {error}")
            await asyncio.sleep(interval)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self._claim.release()
        if self._http is not None:
            await self._http.aclose()


def _message(
    metric: str,
    level: AlertLevel,
    previous: AlertLevel,
    value: float | None,
    bound: float,
) -> str:
    shown = format_value(metric, value)
    if level is AlertLevel.RESOLVED:
        return (
            f"{metric} back to normal: {shown} (below {format_value(metric, bound)}; "
            f"was {previous.value})"
        )
    return f"{metric} is {level.value}: {shown} (threshold {format_value(metric, bound)})"


@asynccontextmanager
async def performance_monitor(
    settings: Settings, db: Database, *, mail: MailBackend | None = None
) -> AsyncIterator[PerformanceMonitor]:
    """The monitor for the app's lifetime, ticking in the background when enabled."""
    monitor = PerformanceMonitor(settings, db, mail=mail)
    if settings.monitor_enabled:
        monitor.start()
        log.info(
            "monitor started",
            interval_seconds=settings.monitor_interval_seconds,
            metrics=sorted(monitor.thresholds),
            channels=[channel.name for channel in monitor.channels],
        )
    try:
        yield monitor
    finally:
        await monitor.aclose()
