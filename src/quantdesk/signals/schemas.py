"""API schemas for signals (`XRead` out, `SignalRefresh` in, `SignalStatsResponse`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from quantdesk.kit.pagination import ListMeta
from quantdesk.kit.schemas import RequestModel
from quantdesk.kit.symbols import normalize_symbol
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import from_epoch
from quantdesk.models import Signal, SignalDirection, SignalStatus
from quantdesk.signals.repository import SignalStats


class ConditionRead(BaseModel):
    name: str = Field(description="Machine name of the condition, e.g. rsi_cross")
    text: str = Field(description="What held at the signal bar, with its values")
    value: float
    threshold: float | None = Field(description="The level or series it was compared with")


class SignalRead(BaseModel):
    id: int
    symbol: str
    timeframe: Timeframe
    strategy: str
    direction: SignalDirection
    entry: float = Field(description="Close of the source bar")
    target: float
    stop: float
    confidence: float = Field(
        ge=0,
        le=100,
        description="100 * (0.5 agreement + 0.3 strength + 0.2 volatility); docs/signals.md",
    )
    rationale: list[ConditionRead] = Field(description="The conditions that fired")
    status: SignalStatus
    source_bar_at: datetime = Field(description="Open time of the bar whose close produced it")
    created_at: datetime
    expires_at: datetime = Field(
        description=(
            "Nominal expiry: when its lifetime_bars-th bar would close if the market never "
            "paused. It expires when that many bars exist (market time), not at this instant"
        )
    )
    lifetime_bars: int = Field(description="Bars of its timeframe it lives after its source bar")
    closed_at: datetime | None = Field(
        description="Close of the bar that settled it (target_hit, stopped, expired)"
    )
    close_price: float | None = Field(
        description="Price it settled at: the level (or the gapped open) when hit, the close "
        "of its last bar when expired; null while active"
    )
    bars_held: int | None = Field(description="Bars from its source bar to the settling one")
    settled_return: float | None = Field(
        description="Return from entry to close_price as a fraction: close_price / entry - 1 "
        "for a LONG, 1 - close_price / entry for a SHORT"
    )
    params: dict[str, Any] = Field(
        description="Strategy and risk-model parameters, and the confidence parts"
    )

    @classmethod
    def of(cls, signal: Signal) -> SignalRead:
        return cls(
            id=signal.id,
            symbol=signal.symbol,
            timeframe=Timeframe(signal.timeframe),
            strategy=signal.strategy,
            direction=signal.direction,
            entry=signal.entry,
            target=signal.target,
            stop=signal.stop,
            confidence=signal.confidence,
            rationale=[ConditionRead.model_validate(item) for item in signal.rationale],
            status=signal.status,
            source_bar_at=from_epoch(signal.source_ts),
            created_at=signal.created_at,
            expires_at=signal.expires_at,
            lifetime_bars=signal.lifetime_bars,
            closed_at=signal.closed_at,
            close_price=signal.close_price,
            bars_held=signal.bars_held,
            settled_return=signal.settled_return,
            params=signal.params,
        )


class SignalResponse(BaseModel):
    data: SignalRead


class SignalRefresh(RequestModel):
    symbol: str = Field(description="Instrument symbol, e.g. GOOG")
    timeframe: Timeframe = Timeframe.D1

    @field_validator("symbol")
    @classmethod
    def _symbol(cls, value: str) -> str:
        return normalize_symbol(value)


class RefreshMeta(ListMeta):
    symbol: str
    timeframe: Timeframe
    created: int = Field(description="Signals new in this refresh (the rest existed already)")
    source_bar_at: datetime | None = Field(
        description="Open time of the last closed bar the strategies ran on"
    )


class SignalRefreshResponse(BaseModel):
    data: list[SignalRead] = Field(description="Every signal of the last closed bar")
    meta: RefreshMeta


class SignalStatsRead(BaseModel):
    """The track record of one strategy on one symbol and timeframe."""

    strategy: str
    symbol: str
    timeframe: Timeframe
    count: int = Field(description="Signals, active ones included")
    active: int
    settled: int = Field(description="target_hit + stopped + expired")
    target_hit: int
    stopped: int
    expired: int
    hit_rate: float | None = Field(
        ge=0, le=1, description="Share of settled signals with a positive settled_return"
    )
    avg_return: float | None = Field(description="Mean settled_return of settled signals")
    avg_bars_held: float | None = Field(description="Mean bars_held of settled signals")

    @classmethod
    def of(cls, stats: SignalStats) -> SignalStatsRead:
        return cls(
            strategy=stats.strategy,
            symbol=stats.symbol,
            timeframe=Timeframe(stats.timeframe),
            count=stats.count,
            active=stats.active,
            settled=stats.settled,
            target_hit=stats.target_hit,
            stopped=stats.stopped,
            expired=stats.expired,
            hit_rate=stats.hit_rate,
            avg_return=stats.avg_return,
            avg_bars_held=stats.avg_bars_held,
        )


class StatsMeta(BaseModel):
    count: int = Field(description="Rows in data")
    signals: int = Field(description="Signals counted over every row")
    hint: str | None = Field(
        default=None, description="How to get signals, when there are none to count"
    )


class SignalStatsResponse(BaseModel):
    data: list[SignalStatsRead]
    meta: StatsMeta
