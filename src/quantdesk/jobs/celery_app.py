"""The Celery app of the distributed mode, built from Settings (`quantdesk worker` / `beat`).

Every registered job becomes one Celery task of the same name whose body runs the async job
function with `asyncio.run` and records the attempt in `job_runs`, exactly as the in-process
runner does. Delivery is at-least-once: `acks_late` with `task_reject_on_worker_lost` puts a
message back when its pool process dies mid-run; a worker lost whole (its main process too)
leaves the message unacknowledged, and Redis hands it out again once
`celery_visibility_timeout_seconds` have passed. Prefetch 1 keeps one worker from hoarding
messages. Every job is idempotent for this reason. Retries use Celery's autoretry with
exponential backoff (whole seconds); `PermanentJobError` is never retried. Each attempt
builds and installs its own cache (`build_cache`), so bars a worker writes invalidate the
entries the API replicas share in Redis, as they do in the in-process mode.

Beat runs the same schedule as the in-process scheduler: `CronSchedule` wraps `Cron`, so
one setting (`jobs_schedule`, `jobs_timezone`) means the same times in both modes.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Celery, Task
from celery.schedules import BaseSchedule, schedstate
from celery.signals import setup_logging

from quantdesk.config import ConfigError, Settings
from quantdesk.db import Database
from quantdesk.infra.cache import build_cache, install_cache, installed_cache
from quantdesk.infra.events import build_event_bus, install_event_bus, installed_event_bus
from quantdesk.jobs.execution import run_attempt
from quantdesk.jobs.registry import (
    PermanentJobError,
    TaskSpec,
    get_task,
    max_retries,
    registered,
)
from quantdesk.jobs.schedule import Cron, schedule_from_settings

RUNNER = "celery"
# How long an attempt waits for the work its job started at commit before closing up.
FOLLOW_UP_GRACE_SECONDS = 10.0
RESTORE_INTERVAL_SECONDS = 5  # how often a worker looks for messages of lost workers


def broker_url(settings: Settings) -> str:
    url = settings.celery_broker_url or settings.redis_url
    if not url:
        raise ConfigError(
            "QUANTDESK_CELERY_BROKER_URL (or QUANTDESK_REDIS_URL) must name the Redis broker "
            "when QUANTDESK_JOBS_BACKEND=celery"
        )
    return url


class CronSchedule(BaseSchedule):
    """A beat schedule driven by the same cron parser as the in-process scheduler."""

    def __init__(self, cron: Cron, nowfun: Any = None, app: Any = None) -> None:
        self.cron = cron
        super().__init__(nowfun=nowfun, app=app)

    def _aware(self, moment: datetime) -> datetime:
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    def remaining_estimate(self, last_run_at: datetime) -> timedelta:
        fire = self.cron.next_after(self._aware(last_run_at))
        result: timedelta = fire - self._aware(self.now())
        return result

    def is_due(self, last_run_at: datetime) -> Any:
        remaining = self.remaining_estimate(last_run_at).total_seconds()
        if remaining > 0:
            return schedstate(is_due=False, next=remaining)
        # Due now; beat records this run as `now`, so the next check is from the next fire.
        after_now = self.remaining_estimate(self.now()).total_seconds()
        return schedstate(is_due=True, next=max(after_now, 0.0))

    def __reduce__(self) -> tuple[Any, ...]:  # beat pickles its schedule into a shelve file
        return self.__class__, (self.cron,)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CronSchedule) and other.cron == self.cron

    def __hash__(self) -> int:
        return hash(self.cron)

    def __repr__(self) -> str:
        return f"<cron {self.cron.expression} {self.cron.timezone}>"


def transport_options(settings: Settings) -> dict[str, int]:
    """The Redis broker's: a message a lost worker took becomes visible again after the
    visibility timeout, and each worker looks for such messages every 5 s (kombu's default
    scans only every 10th call of a 10 s timer, so ~100 s late)."""
    return {
        "visibility_timeout": settings.celery_visibility_timeout_seconds,
        "unacked_restore_interval": RESTORE_INTERVAL_SECONDS,
        "unacked_restore_throttle": 1,
    }


def create_celery(settings: Settings) -> Celery:
    """The quantdesk Celery app: Redis broker and result backend, one task per job."""
    broker = broker_url(settings)
    app = Celery("quantdesk", broker=broker, backend=settings.celery_result_backend or broker)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options=transport_options(settings),
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_default_queue=settings.celery_queue,
        timezone=settings.jobs_timezone,
        enable_utc=True,
        result_expires=timedelta(days=1),
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        beat_schedule={
            entry.name: {"task": entry.name, "schedule": CronSchedule(entry.cron)}
            for entry in schedule_from_settings(settings, registered=registered())
        },
    )
    for name in registered():
        _bind(app, get_task(name), settings)
    return app


def _bind(app: Celery, spec: TaskSpec, settings: Settings) -> None:
    limit = max_retries(spec, settings)

    def run(self: Task[Any, Any], /, **kwargs: Any) -> Any:
        retries = int(self.request.retries or 0)
        return asyncio.run(
            _attempt(
                app,
                spec,
                kwargs,
                settings,
                task_id=str(self.request.id),
                attempt=retries + 1,
                retries_left=retries < limit,
            )
        )

    app.task(
        name=spec.name,
        # Not shared: a shared task would be copied into every Celery app built later in
        # this process, with this app's settings.
        shared=False,
        bind=True,
        acks_late=True,
        autoretry_for=(Exception,),
        dont_autoretry_for=(PermanentJobError,),
        max_retries=limit,
        # Celery counts backoff in whole seconds.
        retry_backoff=max(1, round(settings.jobs_retry_backoff_seconds)),
        retry_backoff_max=int(settings.jobs_retry_backoff_max_seconds),
        retry_jitter=False,
    )(run)


async def _attempt(
    app: Celery,
    spec: TaskSpec,
    args: dict[str, Any],
    settings: Settings,
    *,
    task_id: str,
    attempt: int,
    retries_left: bool,
) -> Any:
    from quantdesk.jobs.celery_runner import CeleryRunner

    # A fresh engine and cache per attempt: asyncio.run gives each attempt its own event loop,
    # and pooled connections (database, Redis) must not outlive the loop they were opened on.
    # The cache is installed so the job's writes invalidate what the API replicas cached
    # (with the Redis backend; a memory cache here only serves this attempt).
    db = Database(settings)
    cache = build_cache(settings)
    previous = installed_cache()
    install_cache(cache)
    # Likewise the event bus, with the Redis backend: what the job emits (new signals, a
    # finished backtest, a failure) reaches the API replicas' streams.
    bus = build_event_bus(settings) if settings.events_backend == "redis" else None
    previous_bus = installed_event_bus()
    if bus is not None:
        install_event_bus(bus)
    try:
        return await run_attempt(
            spec,
            args,
            db=db,
            settings=settings,
            runner=RUNNER,
            task_id=task_id,
            attempt=attempt,
            retries_left=retries_left,
            enqueue=CeleryRunner(db, settings, app).enqueue,
        )
    finally:
        await _follow_ups_done()
        install_cache(previous)
        await cache.aclose()
        if bus is not None:
            install_event_bus(previous_bus)
            await bus.aclose()
        await db.dispose()


async def _follow_ups_done() -> None:
    """Work the job started at commit (cache invalidation, jobs enqueued after the commit) runs
    in tasks of this attempt's loop, which asyncio.run would cancel once the attempt returns:
    give it a bounded time to finish, before the cache and engine it uses are closed."""
    current = asyncio.current_task()
    pending = [task for task in asyncio.all_tasks() if task is not current]
    if pending:
        await asyncio.wait(pending, timeout=FOLLOW_UP_GRACE_SECONDS)


def use_quantdesk_logging(settings: Settings) -> None:
    """Worker and beat log through quantdesk's structured, redacting configuration."""
    from quantdesk.observability.logging import configure_logging

    def configure(**_: Any) -> None:
        configure_logging(settings)

    setup_logging.connect(configure, weak=False)
