"""Market overview and screener settings (quantdesk.analytics.market), mixed into `Settings`."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MarketSettings(BaseModel):
    # The overview (summary, movers, sectors) counts an instrument only when its last complete
    # session's close is at least `market_min_price` and its volume at least
    # `market_min_volume` (FX and index bars often carry no volume: 0 keeps them in).
    market_min_price: float = Field(default=1.0, ge=0)
    market_min_volume: float = Field(default=0.0, ge=0)
    # Daily sessions read per instrument for the indicators (SMA(200) needs 200).
    market_history_sessions: int = Field(default=260, ge=201, le=2_000)
    # Screener sentiment: mean score of the symbol's scored news over this many days before
    # its latest scored item.
    market_sentiment_days: int = Field(default=7, ge=1, le=365)
