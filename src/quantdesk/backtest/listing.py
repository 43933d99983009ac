"""GET /backtests: the caller's own runs, newest first, in cursor pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.backtest.repository import BacktestRunRepository
from quantdesk.backtest.schemas import BacktestSummary
from quantdesk.kit.pagination import decode_time_id_cursor, split_page, time_id_key
from quantdesk.models import BacktestKind, BacktestRun


async def list_runs(
    session: AsyncSession, *, user_id: int, cursor: str | None, limit: int
) -> tuple[list[BacktestSummary], str | None]:
    """A page of ``user_id``'s runs (nobody else's); the cursor is the (created_at, id) of
    the last run served, signed, so a page never repeats or skips a run."""
    after = decode_time_id_cursor(cursor) if cursor is not None else None
    rows = await BacktestRunRepository(session).owned_page(user_id, after=after, limit=limit + 1)
    page, next_cursor = split_page(rows, limit, key=_key)
    return [_summary(run) for run in page], next_cursor


def _key(run: BacktestRun) -> str:
    return time_id_key(run.created_at, run.id)


def run_fields(run: BacktestRun) -> dict[str, Any]:
    """What a run's list entry and its full view both show: what was asked and where it
    stands (`params` is a sweep's grid)."""
    request = run.request
    params = request.get("grid") if run.kind is BacktestKind.SWEEP else request.get("params")
    return {
        "id": run.id,
        "kind": run.kind,
        "status": run.status,
        "progress": run.progress,
        "symbol": run.symbol,
        "timeframe": run.timeframe,
        "strategy": run.strategy,
        "params": params or {},
        "error": run.error,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }


def _summary(run: BacktestRun) -> BacktestSummary:
    final = (run.stats or {}).get("equity_final")
    equity_final = final if isinstance(final, int | float) else None
    return BacktestSummary(**run_fields(run), equity_final=equity_final)
