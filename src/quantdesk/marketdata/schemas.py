"""API schemas for market data (`XCreate` in, `XRead` out)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from quantdesk.kit.schemas import RequestModel
from quantdesk.kit.symbols import normalize_symbol
from quantdesk.kit.timeframes import Timeframe
from quantdesk.models import AssetClass


class InstrumentCreate(RequestModel):
    symbol: str
    name: Annotated[str, Field(min_length=1, max_length=200)]
    exchange: Annotated[str, Field(min_length=1, max_length=32)]
    asset_class: AssetClass
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    sector: Annotated[str | None, Field(max_length=64)] = None
    industry: Annotated[str | None, Field(max_length=128)] = None
    country: Annotated[
        str | None, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    ] = None
    active: bool = True

    @field_validator("symbol")
    @classmethod
    def _symbol(cls, value: str) -> str:
        return normalize_symbol(value)


class TimeframeCoverageRead(BaseModel):
    timeframe: Timeframe
    bars: int
    first: datetime
    last: datetime


class InstrumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    symbol: str
    name: str
    exchange: str
    asset_class: AssetClass
    currency: str
    sector: str | None
    industry: str | None = None
    country: str | None = None
    active: bool


class InstrumentDetail(InstrumentRead):
    coverage: list[TimeframeCoverageRead] = Field(
        description="Stored bars per timeframe; coarser timeframes are resampled on request."
    )


class InstrumentDetailResponse(BaseModel):
    data: InstrumentDetail


class BarRead(BaseModel):
    ts: datetime = Field(description="Bar open time, UTC")
    open: float
    high: float
    low: float
    close: float
    volume: float


class BarColumns(BaseModel):
    t: list[int] | list[str] = Field(description="Bar open times (Unix seconds, or ISO-8601 Z)")
    o: list[float]
    h: list[float]
    l: list[float]  # noqa: E741 (the charting-library column name)
    c: list[float]
    v: list[float]


class BarsMeta(BaseModel):
    symbol: str
    timeframe: Timeframe
    source_timeframe: Timeframe = Field(description="Stored timeframe the bars were built from")
    resampled: bool
    count: int
    format: Literal["rows", "columns"]
    time_format: Literal["iso", "unix"]
    provider: str = Field(
        description=(
            'Where the bars came from: "store", the stored bars (their provider is not '
            "recorded per row)"
        )
    )
    fallback_trace: list[FallbackStepRead] = Field(
        description="Providers that failed before one answered; empty for stored bars"
    )
    as_of: datetime | None = Field(description="Open time of the last bar returned; null if none")
    stale: bool | None = Field(
        description=(
            "True when more than 3 expected updates (the timeframe; at least a trading day "
            "for equities, indices and funds) of market time have passed since `as_of`, "
            "by the wall clock (README, Freshness); null if no bars"
        )
    )
    age_seconds: int | None = Field(
        description="Wall-clock seconds since `as_of`, at this response; null if no bars"
    )
    cache: Literal["hit", "miss", "stale"]


class BarsResponse(BaseModel):
    data: list[BarRead] | BarColumns
    meta: BarsMeta


class QuoteRead(BaseModel):
    symbol: str
    price: float = Field(description="Last traded price (latest bar close or provider trade)")
    previous_close: float | None
    change: float | None
    change_pct: float | None = Field(description="Percent change from previous_close")
    day_open: float | None
    day_high: float | None
    day_low: float | None
    volume: float | None = Field(description="Volume of the latest trading day (UTC)")
    currency: str
    as_of: datetime = Field(
        description="Time of the price: the latest bar's, or the provider's last trade"
    )
    source: str


class FallbackStepRead(BaseModel):
    provider: str
    status: Literal["FAILED", "TIMEOUT", "RATE_LIMITED", "CIRCUIT_OPEN"]
    error: str


class ReplayRef(BaseModel):
    replay_id: str
    ts: datetime = Field(description="Market time of the replayed bar")


class MarketDataMeta(BaseModel):
    provider: str = Field(
        description="Who answered: a provider of the chain, or the stored quote's source"
    )
    fallback_trace: list[FallbackStepRead] = Field(
        description="Providers that failed before it, in order"
    )
    as_of: datetime = Field(
        description="When the provider answered; for a stored quote, the time of its price"
    )
    stale: bool = Field(
        description=(
            "True when more than 3 expected updates (an hour for crypto and FX, a trading "
            "day otherwise) of market time have passed since the price's time "
            "(`data.as_of`), by the wall clock (README, Freshness)"
        )
    )
    age_seconds: int = Field(description="Wall-clock seconds since `data.as_of`, at this response")
    cache: Literal["hit", "miss", "stale"]
    replay: ReplayRef | None = Field(
        None, description="Present while a market replay of the symbol runs: the replayed quote"
    )


class QuoteResponse(BaseModel):
    data: QuoteRead
    meta: MarketDataMeta
