"""Where backtest work runs: the one place that takes it off the event loop.

Until the jobs module takes over, a queued run is started by the request's background tasks
(FastAPI's ``BackgroundTasks``: after the response is sent, so after the request's unit of
work has committed the run row), inside the API process's event loop; its database I/O is
async and its CPU part goes to a worker thread through ``run_cpu``. The jobs module can swap
``launch`` for an enqueue of ``backtest.run`` with the run id; the job body stays
``backtest_service.execute``.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import anyio
import anyio.to_thread

from quantdesk.config import Settings
from quantdesk.db import Database

T = TypeVar("T")

#: The work a launched run does: ``(db, settings, run_id)``; it opens its own sessions.
RunJob = Callable[[Database, Settings, str], Awaitable[None]]


class TaskScheduler(Protocol):
    """Anything that runs a coroutine function later (FastAPI's ``BackgroundTasks``)."""

    def add_task(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None: ...


def launch(
    tasks: TaskScheduler, job: RunJob, db: Database, settings: Settings, run_id: str
) -> None:
    """Start ``job`` for ``run_id`` once the current request has committed and answered."""
    tasks.add_task(job, db, settings, run_id)


# One limiter per event loop: anyio's limiter belongs to the loop that first waits on it.
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _limiter(limit: int) -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(max(1, limit))
    return limiter


async def run_cpu(func: Callable[..., T], *args: Any, limit: int) -> T:
    """``func(*args)`` in a worker thread, at most ``limit`` at once per event loop (the
    engine's kernels release the GIL, so runs really do proceed in parallel)."""
    call = functools.partial(func, *args)
    return await anyio.to_thread.run_sync(call, limiter=_limiter(limit))
