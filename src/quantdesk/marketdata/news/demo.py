"""The news part of `quantdesk demo load`: the shipped RSS sample (providers/news_files.py),
stored like any provider's items, so GET /news?symbol=GOOG answers on a fresh install."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.marketdata.news.service import news_service
from quantdesk.marketdata.providers.news_files import (
    SAMPLE_RESOURCE,
    file_provider_label,
    read_news_file,
    sample_bytes,
)


async def load_demo_news(session: AsyncSession) -> str:
    """Store the sample's items (already stored ones are duplicates); what happened, in a line.
    Call after the demo instruments exist: items are tagged against them."""
    items = read_news_file(sample_bytes(), SAMPLE_RESOURCE)
    provider = file_provider_label(SAMPLE_RESOURCE)
    result = await news_service.store(session, items, provider=provider, bus=None)
    if not result.new_ids:
        return f"news: already loaded ({len(items)} items of {provider})"
    return f"news: {len(result.new_ids)} items stored from {provider}"
