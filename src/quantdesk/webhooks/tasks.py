"""The webhooks domain's job (registered by import, `quantdesk.tasks`): with Celery jobs,
`quantdesk worker` processes run it on beat's schedule so deliveries go out even where no
serving process runs a dispatcher. Importing this module also registers the outbox hook in
worker processes, whose transactions emit events too (a finished backtest)."""

from __future__ import annotations

import time

from quantdesk.jobs.registry import JobContext, task
from quantdesk.jobs.result import JobResult
from quantdesk.webhooks import outbox
from quantdesk.webhooks.dispatcher import Dispatcher


@task("webhooks.sweep")
async def sweep(ctx: JobContext, *, max_seconds: float = 50.0) -> JobResult:
    """Send due deliveries for up to `max_seconds` (one pass per batch); counts them."""
    outbox.configure(ctx.settings)
    dispatcher = Dispatcher(ctx.db, ctx.settings)
    sent = 0
    deadline = time.monotonic() + max_seconds
    try:
        while time.monotonic() < deadline:
            done = await dispatcher.run_once()
            if not done:
                break
            sent += done
    finally:
        await dispatcher.stop()
    return JobResult(counts={"attempted": sent})
