"""The documented shape of GET /indicators/{symbol} (the body itself is built by hand with
orjson, like bars: see indicators/service.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class IndicatorsMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str
    timeframe: str
    set: list[str] = Field(description="The indicators computed, normalized (name:arg:arg)")
    count: int = Field(description="Bars in the answer")
    cache: Literal["hit", "miss", "stale"]


class IndicatorsResponse(BaseModel):
    # `t` holds the bars' ISO-8601 open times; every other key is one output array named for
    # its indicator and arguments (`rsi_14`, `macd_signal_12_26_9`, ...), null in warm-up.
    data: dict[str, list[float | None] | list[str]] = Field(
        description="Columns: `t` (ISO-8601 bar open times) and one array per output"
    )
    meta: IndicatorsMeta
