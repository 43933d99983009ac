"""Request and response bodies of /api/v1/admin/replay."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field

from quantdesk.kit.schemas import Instant, RequestModel
from quantdesk.kit.symbols import SYMBOL_PATTERN, normalize_symbol
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import from_epoch
from quantdesk.marketdata.replay.run import ReplayedBar
from quantdesk.marketdata.replay.service import ReplayView

MAX_SPEED = 100_000.0
MAX_STEP_BARS = 10_000

Symbol = Annotated[
    str,
    BeforeValidator(lambda value: normalize_symbol(value) if isinstance(value, str) else value),
    Field(min_length=1, max_length=32, pattern=SYMBOL_PATTERN),
]


class ReplayCreate(RequestModel):
    symbol: Symbol = Field(description="A stored instrument, e.g. GOOG")
    timeframe: Timeframe = Field(description="Stored bars of this timeframe are replayed")
    start: Instant = Field(description="First bar at or after this time (a date means 00:00Z)")
    end: Instant | None = Field(None, description="Last bar at or before; default: the last")
    speed: float = Field(
        1.0,
        ge=0,
        le=MAX_SPEED,
        allow_inf_nan=False,
        description="Bars per second; 0: as fast as the desk processes them",
    )
    paused: bool = Field(False, description="Start paused: advance with POST .../step")


class ReplayStep(RequestModel):
    bars: int = Field(1, ge=1, le=MAX_STEP_BARS, description="How many bars to publish")


class ReplayRead(BaseModel):
    state: Literal["idle", "running", "paused", "finished", "stopped"]
    replay_id: str | None = None
    symbol: str | None = None
    timeframe: Timeframe | None = None
    start: datetime | None = None
    end: datetime | None = Field(None, description="As asked; null: up to the last stored bar")
    speed: float | None = None
    paused: bool = False
    position: datetime | None = Field(None, description="Market time of the last bar published")
    bars_emitted: int = 0
    bars_total: int = Field(0, description="Stored bars in [start, end] when it started")
    error: str | None = Field(None, description="Why it stopped, when reading the bars failed")
    hint: str | None = Field(None, description="When none has run yet: how to start one")

    @classmethod
    def of(cls, view: ReplayView) -> ReplayRead:
        def when(ts: int | None) -> datetime | None:
            return from_epoch(ts) if ts is not None else None

        return cls(
            state=view.state,
            replay_id=view.replay_id,
            symbol=view.symbol,
            timeframe=view.timeframe,
            start=when(view.start),
            end=when(view.end),
            speed=view.speed,
            paused=view.paused,
            position=when(view.position),
            bars_emitted=view.bars_emitted,
            bars_total=view.bars_total,
            error=view.error,
            hint=view.hint,
        )


class ReplayedBarRead(BaseModel):
    ts: datetime = Field(description="The bar's open time (its market time)")
    open: float
    high: float
    low: float
    close: float
    volume: float

    @classmethod
    def of(cls, bar: ReplayedBar) -> ReplayedBarRead:
        return cls(
            ts=from_epoch(bar.ts),
            open=bar.open,
            high=bar.high,
            low=bar.low,
            close=bar.close,
            volume=bar.volume,
        )


class ReplayStepRead(BaseModel):
    bars: list[ReplayedBarRead] = Field(description="The bars published, processed by the desk")
    status: ReplayRead
