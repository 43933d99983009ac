"""The Celery-client runner: what `quantdesk serve` (and workers starting follow-up jobs) use in
the distributed mode. It records the run, sends the message to the Redis broker and asks the
workers how they are; it executes nothing itself. `stats()` also sets the `queue_length` gauge
from the broker list it reads (not each enqueue: that would cost a Redis round trip per job)."""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as redis
from celery import Celery

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.jobs.celery_app import broker_url, create_celery
from quantdesk.jobs.runner import JobRunner, RunnerStats, WorkerHealth
from quantdesk.observability.metrics import QUEUE_LENGTH

INSPECT_TIMEOUT_SECONDS = 1.0


class CeleryRunner(JobRunner):
    backend = "celery"

    def __init__(self, db: Database, settings: Settings, app: Celery | None = None) -> None:
        super().__init__(db, settings)
        self.app = app or create_celery(settings)

    async def _submit(self, name: str, args: dict[str, Any], task_id: str) -> None:
        # Publishing is blocking network I/O (kombu); keep it off the event loop.
        await asyncio.to_thread(
            self.app.send_task,
            name,
            kwargs=args,
            task_id=task_id,
            queue=self.settings.celery_queue,
        )

    async def stats(self) -> RunnerStats:
        errors: list[str] = []
        queued = 0
        try:
            client = redis.from_url(broker_url(self.settings), socket_timeout=2)
            try:
                queued = int(await client.llen(self.settings.celery_queue))
                QUEUE_LENGTH.labels(self.settings.celery_queue).set(queued)
            finally:
                await client.aclose()
        except (redis.RedisError, OSError) as error:
            errors.append(f"broker: {error}")
        try:
            active = await asyncio.to_thread(self._active_by_worker)
        except Exception as error:  # an unreachable broker must not fail the stats page
            errors.append(f"workers: {error}")
            active = {}
        workers = [
            WorkerHealth(name=name, ok=True, active=count) for name, count in sorted(active.items())
        ]
        return RunnerStats(
            backend=self.backend,
            queues={self.settings.celery_queue: queued},
            active=sum(active.values()),
            workers=workers,
            errors=errors,
        )

    def _active_by_worker(self) -> dict[str, int]:
        """Worker name -> tasks running now; a worker that answers is alive."""
        reply = self.app.control.inspect(timeout=INSPECT_TIMEOUT_SECONDS).active() or {}
        return {str(name): len(tasks or []) for name, tasks in reply.items()}
