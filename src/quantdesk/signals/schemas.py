"""API schemas for signals (`XRead` out, `SignalRefresh` in)."""

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
    expires_at: datetime
    closed_at: datetime | None = Field(
        description="Close of the bar that settled it (target_hit, stopped) or expires_at"
    )
    close_price: float | None = Field(description="Price it settled at")
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
            closed_at=signal.closed_at,
            close_price=signal.close_price,
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
