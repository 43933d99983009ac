"""API schemas for reference data. Every answer carries the market-data meta (README):
who supplied the stored rows, the fallback trace (empty: these are stored rows, not a live
provider call), when the provider answered, and the cache status."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

CacheLiteral = Literal["hit", "miss", "stale"]


class ReferenceMeta(BaseModel):
    provider: str = Field(
        description="The provider that supplied the stored rows (several: comma-separated)"
    )
    fallback_trace: list[dict[str, str]] = Field(
        default_factory=list, description="Always empty: served from stored rows"
    )
    as_of: dt.datetime | None = Field(description="When the provider answered (latest row)")
    cache: CacheLiteral


class FxRatesRead(BaseModel):
    base: str
    date: dt.date = Field(description="The publication day of these rates")
    rates: dict[str, float] = Field(description="Units of each currency one `base` buys")


class FxRatesResponse(BaseModel):
    data: FxRatesRead
    meta: ReferenceMeta


class ObservationRead(BaseModel):
    date: dt.date
    value: float


class SeriesMeta(ReferenceMeta):
    series_id: str
    count: int
    next_cursor: str | None = None


class SeriesResponse(BaseModel):
    data: list[ObservationRead]
    meta: SeriesMeta


class FundamentalsRead(BaseModel):
    symbol: str
    as_of: dt.date = Field(description="End of the reported period")
    values: dict[str, Any] = Field(description="Line items by name (numbers) and filing details")


class FundamentalsResponse(BaseModel):
    data: FundamentalsRead
    meta: ReferenceMeta
