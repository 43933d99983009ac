"""Task functions, defined once and registered by name (`domain.event`).

Both runners (in-process and Celery) look tasks up here, so a task is written once:

    @task("maintenance.cleanup")
    async def cleanup(ctx: JobContext, **kwargs: Any) -> JobResult: ...

A task returns a `JobResult` (jobs/result.py): it is stored with the run, and a result that
did nothing makes the run `skipped`.

Arguments must survive a JSON round trip (Celery's serializer), so they are checked when a job
is enqueued, not when a worker picks it up.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.errors import NotFound, Unprocessable, field_error
from quantdesk.jobs.result import JobFailure

P = ParamSpec("P")
R = TypeVar("R")
NAME_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"

Enqueue = Callable[..., Awaitable[Any]]


class UnknownJob(NotFound):
    code = "job-not-found"

    def __init__(self, name: str) -> None:
        super().__init__(f"no job named {name!r}")


class InvalidJobArgs(Unprocessable):
    code = "invalid-job-args"


class PermanentJobError(JobFailure):
    """Raised by a task when trying again cannot help (bad input, missing feature): the run is
    recorded as failed at once, without retries (with the partial `result`, when given)."""


@dataclass(frozen=True)
class JobContext:
    """What a running task gets: the database, settings, and a way to start follow-up jobs."""

    db: Database
    settings: Settings
    name: str
    task_id: str
    attempt: int
    enqueue: Enqueue = field(repr=False)

    async def to_thread(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Blocking or CPU-heavy work, off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)


TaskFn = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class TaskSpec:
    name: str
    fn: TaskFn
    # None: the jobs_max_retries setting.
    max_retries: int | None = None


_REGISTRY: dict[str, TaskSpec] = {}


def task(name: str, *, max_retries: int | None = None) -> Callable[[TaskFn], TaskFn]:
    """Register `async def fn(ctx: JobContext, **kwargs)` under `name`."""
    if not re.match(NAME_PATTERN, name):
        raise ValueError(f"job name {name!r} must look like 'domain.event'")

    def register(fn: TaskFn) -> TaskFn:
        if not asyncio.iscoroutinefunction(fn):
            raise TypeError(f"job {name!r}: {fn.__qualname__} must be an async function")
        existing = _REGISTRY.get(name)
        if existing is not None and existing.fn is not fn:
            raise ValueError(f"job {name!r} is already registered by {existing.fn.__module__}")
        _REGISTRY[name] = TaskSpec(name=name, fn=fn, max_retries=max_retries)
        return fn

    return register


def unregister(name: str) -> None:
    """Remove a task (tests register throwaway tasks)."""
    _REGISTRY.pop(name, None)


def get_task(name: str) -> TaskSpec:
    spec = _REGISTRY.get(name)
    if spec is None:
        raise UnknownJob(name)
    return spec


def registered() -> list[str]:
    return sorted(_REGISTRY)


def checked_args(name: str, args: dict[str, Any]) -> dict[str, Any]:
    """`args` after a JSON round trip (what a Celery worker would receive), or 422 when they
    would not survive it or do not fit the task's parameters."""
    spec = get_task(name)
    try:
        loaded = json.loads(json.dumps(args, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise InvalidJobArgs(
            f"arguments of {name} must be JSON-serializable: {error}",
            errors=[field_error(["body", "args"], "not JSON-serializable")],
        ) from error
    assert isinstance(loaded, dict)
    try:
        inspect.signature(spec.fn).bind(None, **loaded)
    except TypeError as error:
        raise InvalidJobArgs(
            f"arguments do not fit {name}: {error}",
            errors=[field_error(["body", "args"], str(error))],
        ) from error
    return loaded


def max_retries(spec: TaskSpec, settings: Settings) -> int:
    return settings.jobs_max_retries if spec.max_retries is None else spec.max_retries


def backoff_seconds(settings: Settings, attempt: int) -> float:
    """Delay before attempt `attempt + 1`: exponential, capped (attempt is 1-based)."""
    delay = settings.jobs_retry_backoff_seconds * 2 ** (attempt - 1)
    return float(min(delay, settings.jobs_retry_backoff_max_seconds))
