"""Market overview and screener request and response models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from quantdesk.analytics.market.screener import FIELDS, OPERATORS, allowed_message
from quantdesk.kit.schemas import RequestModel

MoverKind = Literal["gainers", "losers", "active"]


def _field(value: str) -> str:
    if value not in FIELDS:
        raise ValueError(allowed_message("field", value, FIELDS))
    return value


def _op(value: str) -> str:
    if value not in OPERATORS:
        raise ValueError(allowed_message("operator", value, OPERATORS))
    return value


def _sort(value: str) -> str:
    if value.lstrip("-") not in FIELDS:
        raise ValueError(allowed_message("sort field", value, FIELDS) + " (prefix - for desc)")
    return value


class ScreenerFilter(RequestModel):
    field: Annotated[str, AfterValidator(_field)] = Field(
        description="An allow-listed snapshot field",
        examples=["change_pct"],
        json_schema_extra={"enum": list(FIELDS)},
    )
    op: Annotated[str, AfterValidator(_op)] = Field(
        description="text fields take eq, ne, in, not_in, is_null",
        examples=["gt"],
        json_schema_extra={"enum": list(OPERATORS)},
    )
    value: float | str | bool | list[float | str] = Field(
        description="A number or string; [low, high] for between; a list for in/not_in; "
        "true/false for is_null",
        examples=[2],
    )


class ScreenerRequest(RequestModel):
    filters: Annotated[list[ScreenerFilter], Field(max_length=50, default_factory=list)]
    sort: Annotated[str, AfterValidator(_sort)] = Field(
        default="-change_pct",
        description="A field, `-` first for descending",
        json_schema_extra={"enum": [*FIELDS, *(f"-{name}" for name in FIELDS)]},
    )
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    cursor: Annotated[str | None, Field(max_length=512)] = None
    include_stale: bool = Field(
        default=False,
        description="Also instruments whose last session is older than their asset class's",
    )


class OverviewMeta(BaseModel):
    count: int = Field(description="Rows in `data`")
    provider: str = Field(description="Where the figures come from")
    refreshed_at: datetime | None = Field(description="When `market.refresh` last ran")
    criteria: dict[str, float | str]
    message: str | None = Field(default=None, description="Why there is nothing, and what to do")


class SummaryRead(BaseModel):
    asset_class: str
    as_of: date = Field(description="The last complete session the figures are of")
    instruments: int
    gainers: int
    losers: int
    unchanged: int
    volume: float | None
    turnover: float | None
    average_change_pct: float | None


class SummaryResponse(BaseModel):
    data: list[SummaryRead]
    meta: OverviewMeta


class SectorRead(BaseModel):
    sector: str
    as_of: date
    instruments: int
    gainers: int
    losers: int
    unchanged: int
    volume: float | None
    turnover: float | None
    average_change_pct: float | None
    market_cap: float | None


class SectorsResponse(BaseModel):
    data: list[SectorRead]
    meta: OverviewMeta


class MoverRead(BaseModel):
    rank: int
    symbol: str
    name: str
    asset_class: str
    sector: str | None
    as_of: date
    price: float
    change: float | None
    change_pct: float | None
    volume: float
    turnover: float


class MoversResponse(BaseModel):
    data: list[MoverRead]
    meta: OverviewMeta


class ScreenerRow(BaseModel):
    symbol: str
    name: str
    asset_class: str
    exchange: str
    currency: str
    sector: str | None
    industry: str | None
    country: str | None
    as_of: date
    timeframe: str
    price: float
    previous_close: float | None
    change: float | None
    change_pct: float | None
    open: float
    high: float
    low: float
    volume: float
    turnover: float
    market_cap: float | None
    pe: float | None
    rsi_14: float | None
    sma_50: float | None
    sma_200: float | None
    sma_50_distance_pct: float | None
    sma_200_distance_pct: float | None
    sentiment: float | None
    current: bool


class ScreenerMeta(OverviewMeta):
    total: int = Field(description="Rows matching the filters, over all pages")
    next_cursor: str | None


class ScreenerResponse(BaseModel):
    data: list[ScreenerRow]
    meta: ScreenerMeta
