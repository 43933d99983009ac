"""The in-process runner: a bounded asyncio queue drained by N worker tasks inside the server.

Nothing extra to run (the laptop mode). Jobs are async; blocking work inside a job goes to a
thread (`ctx.to_thread`). A failed attempt is retried after an exponential backoff without
holding a worker; every attempt is recorded in `job_runs`. Not durable: jobs still queued when
the server stops are recorded as failed ("not run"), and the next schedule tick runs them again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.jobs.execution import run_attempt
from quantdesk.jobs.registry import (
    PermanentJobError,
    UnknownJob,
    backoff_seconds,
    get_task,
    max_retries,
)
from quantdesk.jobs.runner import JobRunner, RunnerStats, WorkerHealth
from quantdesk.jobs.service import job_run_service
from quantdesk.models import JobStatus
from quantdesk.observability.logging import get_logger
from quantdesk.observability.metrics import QUEUE_LENGTH

log = get_logger("quantdesk.jobs")
Sleep = Callable[[float], Awaitable[None]]
QUEUE_NAME = "inprocess"


@dataclass(frozen=True)
class _Item:
    name: str
    args: dict[str, Any]
    task_id: str
    attempt: int = 1


class InProcessRunner(JobRunner):
    backend = "inprocess"

    def __init__(self, db: Database, settings: Settings, *, sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(db, settings)
        self._sleep = sleep  # injectable: tests run backoffs without waiting
        self._queue: asyncio.Queue[_Item] = asyncio.Queue(maxsize=settings.jobs_queue_size)
        self._workers: list[asyncio.Task[None]] = []
        self._retries: set[asyncio.Task[None]] = set()
        self._active = 0
        self._accepting = False
        self._queue_length = QUEUE_LENGTH.labels(QUEUE_NAME)

    def _queue_changed(self) -> None:
        # A gauge set per put and take: no lock, no I/O, so the scraped value is never stale.
        self._queue_length.set(self._queue.qsize())

    async def start(self) -> None:
        if self._workers:
            return
        self._accepting = True
        self._workers = [
            asyncio.create_task(self._work(), name=f"quantdesk-job-worker-{index}")
            for index in range(self.settings.jobs_workers)
        ]

    async def _submit(self, name: str, args: dict[str, Any], task_id: str) -> None:
        if not self._accepting:
            raise RuntimeError("the in-process runner is not running")
        # put_nowait: a full queue is an answer (503), not a request left hanging.
        self._queue.put_nowait(_Item(name, args, task_id))
        self._queue_changed()

    async def _work(self) -> None:
        while True:
            item = await self._queue.get()
            self._queue_changed()
            self._active += 1
            try:
                await self._run(item)
            except Exception as error:  # a worker must outlive any one job
                log.error("job worker error", job=item.name, error=str(error))
            finally:
                self._active -= 1
                self._queue.task_done()

    async def _run(self, item: _Item) -> None:
        try:
            spec = get_task(item.name)
        except UnknownJob as error:
            await self._close(item, f"{error}")
            return
        limit = max_retries(spec, self.settings)
        retries_left = item.attempt <= limit
        try:
            await run_attempt(
                spec,
                item.args,
                db=self.db,
                settings=self.settings,
                runner=self.backend,
                task_id=item.task_id,
                attempt=item.attempt,
                retries_left=retries_left,
                enqueue=self.enqueue,
            )
        except PermanentJobError:
            return
        except Exception:
            if retries_left:
                self._retry_later(item, backoff_seconds(self.settings, item.attempt))

    def _retry_later(self, item: _Item, delay: float) -> None:
        async def requeue() -> None:
            try:
                await self._sleep(delay)
            except asyncio.CancelledError:
                await asyncio.shield(self._close(item, "not retried: the server stopped first"))
                raise
            await self._queue.put(replace(item, attempt=item.attempt + 1))
            self._queue_changed()

        retry = asyncio.create_task(requeue(), name=f"quantdesk-job-retry-{item.task_id}")
        self._retries.add(retry)
        retry.add_done_callback(self._retries.discard)

    async def drain(self) -> None:
        """Wait until nothing is queued, running or waiting to be retried."""
        while True:
            await self._queue.join()
            if not self._retries:
                if self._queue.empty():
                    return
                continue
            await asyncio.gather(*list(self._retries), return_exceptions=True)

    async def stats(self) -> RunnerStats:
        return RunnerStats(
            backend=self.backend,
            queues={QUEUE_NAME: self._queue.qsize()},
            active=self._active,
            workers=[WorkerHealth(name=w.get_name(), ok=not w.done()) for w in self._workers],
            retries_waiting=len(self._retries),
        )

    async def stop(self) -> None:
        self._accepting = False
        for retry in list(self._retries):
            retry.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), self.settings.jobs_shutdown_grace_seconds)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, *self._retries, return_exceptions=True)
        self._workers = []
        while not self._queue.empty():
            await self._close(self._queue.get_nowait(), "not run: the server stopped first")
        self._queue_changed()

    async def _close(self, item: _Item, error: str) -> None:
        async with self.db.session() as session:
            await job_run_service.finished(
                session, task_id=item.task_id, status=JobStatus.FAILED, error=error
            )
