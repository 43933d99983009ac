"""The one interface every job runner implements (in-process or Celery).

Code that wants work done later calls `runner.enqueue(name, **args)`, or, inside a unit of
work, `runner.enqueue_after_commit(session, name, **args)`: the job is handed over only once
the transaction has committed, so a worker never looks for rows that were rolled back (and a
rolled-back request starts nothing). Services reach the runner of the running app with
`get_runner()`; `job_runtime()` (lifecycle.py) installs it.
"""

from __future__ import annotations

import asyncio
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.errors import ServiceUnavailable
from quantdesk.jobs.registry import checked_args
from quantdesk.jobs.service import describe_error, job_run_service
from quantdesk.models import JobStatus
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.jobs")


class JobsUnavailable(ServiceUnavailable):
    code = "jobs-unavailable"


@dataclass(frozen=True)
class EnqueuedJob:
    name: str
    task_id: str
    run_id: int


@dataclass(frozen=True)
class WorkerHealth:
    name: str
    ok: bool
    active: int = 0


@dataclass(frozen=True)
class RunnerStats:
    backend: str
    queues: dict[str, int]  # queue name -> waiting jobs
    active: int  # jobs running now
    workers: list[WorkerHealth]
    retries_waiting: int = 0
    errors: list[str] = field(default_factory=list)  # why a figure could not be read


class JobRunner(ABC):
    backend: ClassVar[str]

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def enqueue(self, name: str, /, **args: Any) -> EnqueuedJob:
        """Record the run as queued and hand it to the runner now."""
        args = checked_args(name, args)
        task_id = uuid.uuid4().hex
        async with self.db.session() as session:
            run = await job_run_service.queued(
                session, name=name, args=args, runner=self.backend, task_id=task_id
            )
        try:
            await self._submit(name, args, task_id)
        except Exception as error:
            async with self.db.session() as session:
                await job_run_service.finished(
                    session,
                    task_id=task_id,
                    status=JobStatus.FAILED,
                    error=f"not enqueued: {describe_error(error)}",
                )
            raise JobsUnavailable(f"could not enqueue {name}: {error}") from error
        return EnqueuedJob(name=name, task_id=task_id, run_id=run.id)

    def enqueue_after_commit(self, session: AsyncSession, name: str, /, **args: Any) -> None:
        """Enqueue when `session`'s transaction commits; nothing happens if it rolls back.

        Arguments are checked now, so a bad call fails in the caller, not in a worker."""
        args = checked_args(name, args)
        sync = session.sync_session
        _listen(sync)
        pending: list[_Pending] = sync.info.setdefault(_PENDING, [])
        pending.append(_Pending(self, name, args, sync.get_nested_transaction()))

    @abstractmethod
    async def _submit(self, name: str, args: dict[str, Any], task_id: str) -> None:
        """Hand a recorded job to whatever executes it."""

    @abstractmethod
    async def stats(self) -> RunnerStats: ...

    async def start(self) -> None:  # noqa: B027 (a no-op where workers live elsewhere)
        """Begin executing jobs."""

    async def stop(self) -> None:  # noqa: B027
        """Stop executing jobs; queued jobs that cannot run are recorded as failed."""


# --------------------------------------------------------------------------- after commit

_PENDING = "quantdesk.jobs.pending"
_LISTENING = "quantdesk.jobs.listening"
_SPAWNED: set[asyncio.Task[Any]] = set()  # strong references until each enqueue finishes


@dataclass(frozen=True)
class _Pending:
    runner: JobRunner
    name: str
    args: dict[str, Any]
    # The savepoint open when the job was enqueued: rolling it back drops the job.
    savepoint: SessionTransaction | None


def _listen(sync: Session) -> None:
    if sync.info.get(_LISTENING):
        return
    event.listen(sync, "after_commit", _after_commit)
    event.listen(sync, "after_soft_rollback", _after_soft_rollback)
    event.listen(sync, "after_transaction_end", _after_transaction_end)
    sync.info[_LISTENING] = True


def _after_commit(sync: Session) -> None:
    if sync.in_nested_transaction():
        return  # a savepoint released; the outer transaction may still roll back
    pending: list[_Pending] = sync.info.pop(_PENDING, [])
    if not pending:
        return
    loop = asyncio.get_running_loop()
    for job in pending:
        spawned = loop.create_task(_enqueue_logged(job))
        _SPAWNED.add(spawned)
        spawned.add_done_callback(_SPAWNED.discard)


def _after_soft_rollback(sync: Session, previous: SessionTransaction) -> None:
    pending: list[_Pending] = sync.info.get(_PENDING, [])
    if not previous.nested:
        pending.clear()
        return
    pending[:] = [job for job in pending if not _inside(job.savepoint, previous)]


def _after_transaction_end(sync: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended without a commit (closed, rolled back): drop leftovers,
    # or they would fire on some later, unrelated commit of the same session.
    if transaction.parent is None:
        sync.info.pop(_PENDING, None)


def _inside(savepoint: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while savepoint is not None:
        if savepoint is ended:
            return True
        savepoint = savepoint.parent
    return False


async def _enqueue_logged(job: _Pending) -> None:
    try:
        await job.runner.enqueue(job.name, **job.args)
    except Exception as error:
        log.error("enqueue after commit failed", job=job.name, error=describe_error(error))


async def wait_for_spawned() -> None:
    """Let enqueues started by commits finish (shutdown, tests)."""
    while _SPAWNED:
        await asyncio.gather(*list(_SPAWNED), return_exceptions=True)


# --------------------------------------------------------------------------- current runner

_current: JobRunner | None = None


def install_runner(runner: JobRunner | None) -> None:
    global _current
    _current = runner


def get_runner() -> JobRunner:
    """The running app's job runner (installed by `job_runtime`)."""
    if _current is None:
        raise JobsUnavailable("the job runner is not running in this process")
    return _current
