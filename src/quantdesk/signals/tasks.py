"""The signals domain's jobs (registered by import, `quantdesk.tasks`).

`signals.generate` is started by `marketdata.fetch_bars` for the series that got new bars;
`signals.evaluate` runs on the schedule and settles or expires open signals.
"""

from __future__ import annotations

from quantdesk.jobs.registry import JobContext, PermanentJobError, task
from quantdesk.jobs.result import JobResult
from quantdesk.kit.timeframes import Timeframe
from quantdesk.signals.service import signal_service


@task("signals.generate")
async def generate_signals(
    ctx: JobContext, *, symbols: list[str] | None = None, timeframe: str = "1d"
) -> JobResult:
    """Signals on the last closed bar of `symbols` (default: every active instrument); the
    result counts the new signals per symbol."""
    try:
        parsed = Timeframe(timeframe)
    except ValueError as error:
        raise PermanentJobError(f"unknown timeframe {timeframe!r}") from error
    async with ctx.db.session() as session:
        # The job's settings, not the process-wide ones: a worker may serve another config.
        created = await signal_service.generate(
            session, symbols=symbols, timeframe=parsed, settings=ctx.settings
        )
    result = JobResult()
    for symbol in symbols or []:
        result.wrote(f"{symbol}:{parsed.value}", 0)
    for signal in created:
        result.wrote(f"{signal.symbol}:{parsed.value}", 1)
    result.counts["signals_created"] = len(created)
    return result


@task("signals.evaluate")
async def evaluate_signals(ctx: JobContext) -> JobResult:
    """Settle active signals against newer bars; the result counts signals per status."""
    async with ctx.db.session() as session:
        counts = await signal_service.evaluate(session, settings=ctx.settings)
    return JobResult(counts=counts)
