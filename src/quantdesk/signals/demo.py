"""Signals over the demo history: `quantdesk demo load` loads the demo bars, then this."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.marketdata.demo import DEMO_SERIES
from quantdesk.signals.backfill import BackfillResult
from quantdesk.signals.service import signal_service


async def backfill_demo_signals(session: AsyncSession) -> list[BackfillResult]:
    """Signals over every demo series' history, each settled by the bars after it
    (idempotent: signals already stored are kept)."""
    results: list[BackfillResult] = []
    for series in DEMO_SERIES:
        results.extend(
            await signal_service.backfill(
                session, symbols=[series.instrument.symbol], timeframe=series.timeframe
            )
        )
    return results
