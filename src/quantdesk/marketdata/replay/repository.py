"""What a replay reads besides the bars themselves (those come from `BarRepository.read`)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.kit.timeframes import Timeframe
from quantdesk.models import Bar


async def count_bars(
    session: AsyncSession, instrument_id: int, timeframe: Timeframe, start: int, end: int | None
) -> tuple[int, int | None]:
    """How many stored bars lie in [start, end] (end None: no bound), and the last one's time."""
    statement = select(func.count(), func.max(Bar.ts)).where(
        Bar.instrument_id == instrument_id, Bar.timeframe == timeframe.value, Bar.ts >= start
    )
    if end is not None:
        statement = statement.where(Bar.ts <= end)
    count, last = (await session.execute(statement)).one()
    return int(count or 0), int(last) if last is not None else None
