"""Research API schemas. Request bodies forbid unknown fields."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from quantdesk.kit.symbols import SYMBOL_PATTERN


class RatioRead(BaseModel):
    name: str
    value: float | None = Field(description="None when an input is missing or meaningless")
    formula: str
    missing: list[str] = Field(description="Inputs not in the statement")


class PriceRead(BaseModel):
    close: float
    ts: int = Field(description="Bar open time, epoch seconds")
    timeframe: str


class FundamentalsRatiosRead(BaseModel):
    symbol: str
    as_of: dt.date = Field(description="End of the latest reported period")
    values: dict[str, float | str | None] = Field(description="Headline line items")
    ratios: list[RatioRead]
    price: PriceRead | None = Field(description="The close the market ratios use")


class ResearchMeta(BaseModel):
    provider: str
    as_of: dt.date | None = None


class FundamentalsRatiosResponse(BaseModel):
    data: FundamentalsRatiosRead
    meta: ResearchMeta


class StatementRead(BaseModel):
    as_of: dt.date
    values: dict[str, float | str | None]
    provider: str


class StatementsMeta(ResearchMeta):
    count: int = Field(description="How many periods `data` holds (all of them: no pages)")


class StatementsResponse(BaseModel):
    data: list[StatementRead] = Field(description="Every stored period, newest first")
    meta: StatementsMeta


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(pattern=SYMBOL_PATTERN, description="The instrument asked about")
    question: str = Field(min_length=1, max_length=2_000)


class DroppedRead(BaseModel):
    sentence: str
    unsupported: list[str] = Field(description="The numbers not found in the data")


class ChatRead(BaseModel):
    symbol: str
    answer: str = Field(description="The model's text, sentences failing the guard removed")
    flagged: bool = Field(description="True when the numeric guard dropped a sentence")
    dropped: list[DroppedRead]
    disclaimer: str
    model: str


class ChatMeta(BaseModel):
    as_of: str
    inputs_sha256: str
    providers: list[str]


class ChatResponse(BaseModel):
    data: ChatRead
    meta: ChatMeta
