"""GET /backtests: the caller's own runs, newest first, in cursor pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.backtest.repository import BacktestRunRepository
from quantdesk.backtest.schemas import BacktestSummary
from quantdesk.errors import Unprocessable, field_error
from quantdesk.kit.pagination import decode_cursor, split_page
from quantdesk.models import BacktestKind, BacktestRun

_SEPARATOR = "|"


async def list_runs(
    session: AsyncSession, *, user_id: int, cursor: str | None, limit: int
) -> tuple[list[BacktestSummary], str | None]:
    """A page of ``user_id``'s runs (nobody else's); the cursor is the (created_at, id) of
    the last run served, signed, so a page never repeats or skips a run."""
    after = _decode(cursor) if cursor is not None else None
    rows = await BacktestRunRepository(session).owned_page(user_id, after=after, limit=limit + 1)
    page, next_cursor = split_page(rows, limit, key=_key)
    return [_summary(run) for run in page], next_cursor


def _key(run: BacktestRun) -> str:
    return f"{run.created_at.isoformat()}{_SEPARATOR}{run.id}"


def _decode(cursor: str) -> tuple[datetime, str]:
    key = decode_cursor(cursor)
    created, sep, run_id = str(key).partition(_SEPARATOR)
    try:
        if not sep or not run_id:
            raise ValueError(cursor)
        return datetime.fromisoformat(created), run_id
    except ValueError as exc:
        message = "malformed cursor: pass meta.next_cursor of a page of this list unchanged"
        raise Unprocessable(message, errors=[field_error(["query", "cursor"], message)]) from exc


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
