"""Warm the compiled engine kernels in a background thread at start-up.

``quantdesk.engine.warmup.warm_kernels`` loads (or compiles) every numba kernel; run in
the serving process's lifespan it takes the 3-7 s a fresh process otherwise spends on its
first indicator, backtest or signal request off that request. It runs on a daemon thread:
start-up is not delayed, the event loop is not blocked, and a process that stops before
it finishes is not held up by it. A failure is logged, never raised: the kernels then
load on first use, as they would without the warm-up.

Loading the kernels leaves many new long-lived objects (numba's type and code caches)
behind, enough to trigger a full garbage collection (0.5 s and more) in whichever request
comes next. The thread collects once itself when done, and with ``gc_freeze_at_startup``
freezes the survivors as the lifespan froze everything before it.
"""

from __future__ import annotations

import gc
import threading
import time
from dataclasses import dataclass, field

from quantdesk.config import Settings
from quantdesk.engine.warmup import warm_kernels
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.warmup")

THREAD_NAME = "kernel-warmup"


@dataclass(eq=False)
class KernelWarmup:
    """The warm-up thread and its outcome: ``done`` is set when it has finished, with
    ``warmed`` the names ``warm_kernels`` returned, or ``error`` what it raised."""

    freeze: bool = False
    thread: threading.Thread | None = None
    done: threading.Event = field(default_factory=threading.Event)
    warmed: list[str] = field(default_factory=list)
    error: BaseException | None = None
    seconds: float | None = None

    def run(self) -> None:
        started = time.perf_counter()
        try:
            self.warmed = warm_kernels()
            gc.collect()
            if self.freeze:
                gc.freeze()
        except Exception as exc:  # never take the app down: kernels then load on first use
            self.error = exc
            log.exception("kernel warm-up failed")
        else:
            self.seconds = time.perf_counter() - started
            log.info(
                "kernels warmed", count=len(self.warmed), duration_ms=round(self.seconds * 1e3)
            )
        finally:
            self.done.set()


def start_kernel_warmup(settings: Settings) -> KernelWarmup | None:
    """With ``warm_kernels_at_startup``, start ``warm_kernels`` on a daemon thread named
    ``kernel-warmup`` and return at once; without it, do nothing (``None``)."""
    if not settings.warm_kernels_at_startup:
        return None
    warmup = KernelWarmup(freeze=settings.gc_freeze_at_startup)
    warmup.thread = threading.Thread(target=warmup.run, name=THREAD_NAME, daemon=True)
    warmup.thread.start()
    return warmup
