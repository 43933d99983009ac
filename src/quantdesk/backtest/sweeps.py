"""Sweeps run in chunks, on whichever runner runs jobs: plan, fan out, apply, gather.

``plan`` reads each symbol's bars once (one symbol at a time), splits its grid into chunks of
about ``QUANTDESK_BACKTEST_SWEEP_CHUNK_WORK`` pair-bars (sweep_plan.py) and records them as
`backtest_sweep_chunks` rows with the run's ``chunks_total``. ``apply_chunk`` runs one chunk
and, in one transaction, stores its rows (only while they are still null), adds one to the
run's ``chunks_done`` and, when that makes it ``chunks_total``, gathers every chunk into the
run's ranked result and completes it. The in-process runner calls ``apply_chunk`` for each
chunk in turn inside the `backtest.run` job; with Celery each chunk is its own
`backtest.sweep_chunk` job.

Why a counter in the database rather than a Celery chord: a chord's callback is driven by the
result backend's counter in Redis, which does not survive a worker killed mid-chunk (the
redelivered task's result is counted again or never, and the chord errors or hangs). Here a
killed worker's chunk is redelivered (``acks_late`` + ``reject_on_worker_lost``, celery_app.py)
and recomputed; its transaction either committed (the redelivery finds the rows set and does
nothing) or rolled back (nothing of it counted). The counter update locks the run's row, so
the chunk that makes the count complete is the only one that gathers, after every other
chunk's rows have committed; a worker killed during the gather rolls it back with its own
chunk, and the redelivery gathers again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.backtest.compute import BarsInfoDocument, RunInputs, bars_info
from quantdesk.backtest.events import BacktestProgress
from quantdesk.backtest.repository import BacktestRunRepository
from quantdesk.backtest.runner import run_cpu
from quantdesk.backtest.schemas import SweepCreate
from quantdesk.backtest.sweep_plan import Block, chunk_rows, gather, plan_symbol
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.errors import Conflict
from quantdesk.infra.events import emit, installed_event_bus
from quantdesk.models import BacktestRun, BacktestStatus, BacktestSweepChunk, utcnow

CHUNK_JOB = "backtest.sweep_chunk"
Enqueue = Callable[..., Awaitable[Any]]
Inputs = Callable[[AsyncSession, Settings, SweepCreate], Awaitable[RunInputs]]
Announce = Callable[[AsyncSession, str, str, str | None], Awaitable[None]]
# Progress while chunks run: 0.05 once planned, 0.95 when the last is in, 1.0 completed.
PLANNED, CHUNKS_SPAN = 0.05, 0.9


class BarsChanged(Conflict):
    code = "sweep-bars-changed"


def for_symbol(request: SweepCreate, symbol: str) -> SweepCreate:
    """The request narrowed to one of its symbols (resolved again per symbol)."""
    return request.model_copy(update={"symbol": symbol, "symbols": [symbol]})


async def plan(
    db: Database, settings: Settings, run_id: str, request: SweepCreate, inputs: Inputs
) -> None:
    """Record the run's chunks, unless they are recorded already (a redelivered job)."""
    async with db.session() as session:
        run = await session.get(BacktestRun, run_id)
        if run is None or run.chunks_total is not None:
            return
    tiles: list[Block] = []
    infos: dict[str, BarsInfoDocument] = {}
    for symbol in request.symbols:
        async with db.session() as session:
            found = await inputs(session, settings, for_symbol(request, symbol))
        infos[symbol] = bars_info(found.frame, found.source_timeframe)
        tiles += plan_symbol(request, symbol, len(found.frame), settings.backtest_sweep_chunk_work)
    async with db.session() as session:
        first = infos[request.symbols[0]]
        claimed = await session.execute(
            update(BacktestRun)
            .where(BacktestRun.id == run_id, BacktestRun.chunks_total.is_(None))
            .values(
                chunks_total=len(tiles),
                chunks_done=0,
                progress=PLANNED,
                meta={"bars": first, "bars_by_symbol": infos},
            )
        )
        if not getattr(claimed, "rowcount", 0):
            return  # another delivery of the job planned it first
        session.add_all(
            BacktestSweepChunk(
                run_id=run_id,
                chunk_no=number,
                symbol=tile.symbol,
                plan={"fast": tile.fast, "slow": tile.slow, "bars": infos[tile.symbol]},
            )
            for number, tile in enumerate(tiles)
        )


async def pending(db: Database, run_id: str) -> list[int]:
    """The run's chunks not applied yet."""
    async with db.session() as session:
        rows = await session.scalars(
            select(BacktestSweepChunk.chunk_no)
            .where(BacktestSweepChunk.run_id == run_id, BacktestSweepChunk.rows.is_(None))
            .order_by(BacktestSweepChunk.chunk_no)
        )
        return list(rows)


async def run(
    db: Database,
    settings: Settings,
    run_id: str,
    request: SweepCreate,
    *,
    inputs: Inputs,
    announce: Announce,
    fan_out: Enqueue | None,
) -> None:
    """Plan the sweep, then hand every chunk not yet applied to ``fan_out`` (a job each), or,
    without one, apply them here in turn."""
    await plan(db, settings, run_id, request, inputs)
    for chunk_no in await pending(db, run_id):
        if fan_out is not None:
            await fan_out(CHUNK_JOB, run_id=run_id, chunk_no=chunk_no)
        else:
            await apply_chunk(db, settings, run_id, chunk_no, inputs=inputs, announce=announce)


async def apply_chunk(
    db: Database,
    settings: Settings,
    run_id: str,
    chunk_no: int,
    *,
    inputs: Inputs,
    announce: Announce,
) -> bool:
    """Compute chunk ``chunk_no`` and apply it (once); the last one gathers. True when this
    call applied it; False when it was applied before or the run is no longer running."""
    async with db.session() as session:
        run = await session.get(BacktestRun, run_id)
        chunk = await session.get(BacktestSweepChunk, (run_id, chunk_no))
        if run is None or chunk is None or run.status is not BacktestStatus.RUNNING:
            return False
        if chunk.rows is not None:
            return False
        request = SweepCreate.model_validate(run.request)
        found = await inputs(session, settings, for_symbol(request, chunk.symbol))
        symbol, planned = chunk.symbol, chunk.plan
    read = bars_info(found.frame, found.source_timeframe)
    if read != planned["bars"]:
        raise BarsChanged(
            f"the bars of {symbol} changed while the sweep ran (planned {planned['bars']}, "
            f"now {read}); run the sweep again"
        )
    if settings.backtest_sweep_chunk_delay_seconds:
        await asyncio.sleep(settings.backtest_sweep_chunk_delay_seconds)
    rows = await run_cpu(
        chunk_rows,
        found.request,
        found.frame,
        planned["fast"],
        planned["slow"],
        limit=settings.backtest_max_concurrent_runs,
    )
    async with db.session() as session:
        return await _apply(session, run_id, chunk_no, rows, announce)


async def _apply(
    session: AsyncSession,
    run_id: str,
    chunk_no: int,
    rows: list[dict[str, Any]],
    announce: Announce,
) -> bool:
    stored = await session.execute(
        update(BacktestSweepChunk)
        .where(
            BacktestSweepChunk.run_id == run_id,
            BacktestSweepChunk.chunk_no == chunk_no,
            BacktestSweepChunk.rows.is_(None),
        )
        .values(rows=rows, applied_at=utcnow())
    )
    if not getattr(stored, "rowcount", 0):
        return False  # applied by another delivery of this chunk
    # Locks the run's row: chunks finishing together count one after the other.
    counted = (
        await session.execute(
            update(BacktestRun)
            .where(BacktestRun.id == run_id, BacktestRun.status == BacktestStatus.RUNNING)
            .values(chunks_done=BacktestRun.chunks_done + 1)
            .returning(BacktestRun.chunks_done, BacktestRun.chunks_total, BacktestRun.user_id)
        )
    ).one_or_none()
    if counted is None:
        return False  # the run failed meanwhile
    done, total, user_id = counted
    total = int(total or 0)
    repository = BacktestRunRepository(session)
    await repository.set_values(run_id, progress=PLANNED + CHUNKS_SPAN * done / max(total, 1))
    if user_id is not None:
        percent = round(100.0 * done / max(total, 1), 1)
        progress = BacktestProgress(user_id, run_id, done, total, percent)
        await emit(session, installed_event_bus(), [progress])
    if done >= total:
        await _gather(session, run_id, announce)
    return True


async def _gather(session: AsyncSession, run_id: str, announce: Announce) -> None:
    run = await session.get(BacktestRun, run_id)
    assert run is not None
    request = SweepCreate.model_validate(run.request)
    parts = await session.execute(
        select(BacktestSweepChunk.symbol, BacktestSweepChunk.rows)
        .where(BacktestSweepChunk.run_id == run_id)
        .order_by(BacktestSweepChunk.chunk_no)
    )
    chunks = [(symbol, rows or []) for symbol, rows in parts]
    infos: dict[str, BarsInfoDocument] = (run.meta or {}).get("bars_by_symbol", {})
    document = gather(request, chunks, infos)
    await BacktestRunRepository(session).set_values(
        run_id,
        only_from=BacktestStatus.RUNNING,
        status=BacktestStatus.COMPLETED,
        progress=1.0,
        finished_at=utcnow(),
        sweep=dict(document),
    )
    await announce(session, run_id, "completed", None)
