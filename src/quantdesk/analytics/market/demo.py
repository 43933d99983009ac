"""`quantdesk demo load` ends by building the market overview over what it loaded."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.analytics.market.service import market_service
from quantdesk.config import Settings


async def refresh_demo_market(session: AsyncSession, settings: Settings) -> str:
    outcome = await market_service.refresh(session, settings)
    return (
        f"market overview: {outcome.snapshot_rows} of {outcome.instruments} instruments in the "
        f"snapshot, {outcome.qualifying} in the summary ({outcome.duration_ms:.0f} ms)"
    )
