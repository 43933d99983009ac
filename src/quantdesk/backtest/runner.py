"""Where backtest computation runs off the event loop.

Runs are executed by the job runner (`backtest.run`, backtest/tasks.py): in-process workers
or Celery, enqueued after the POST's unit of work commits. Inside a run, database I/O stays
on the event loop and the CPU part goes to a worker thread through ``run_cpu``, at most
``QUANTDESK_BACKTEST_MAX_CONCURRENT_RUNS`` at once per event loop.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")

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
