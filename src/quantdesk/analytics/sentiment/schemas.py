"""Request and response models of /sentiment (request bodies forbid unknown fields)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from quantdesk.engine.sentiment import Hit, SentimentScore
from quantdesk.models.sentiment import VoteKind

MAX_TEXTS = 1_000
# 1,000 texts of 1,000 characters stay under the 1 MiB request body limit (http/limits.py).
MAX_TEXT_CHARS = 1_000

SymbolLabel = Literal["bullish", "somewhat_bullish", "neutral", "somewhat_bearish", "bearish"]


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[Annotated[str, Field(max_length=MAX_TEXT_CHARS)]] = Field(
        min_length=1,
        max_length=MAX_TEXTS,
        description=f"1 to {MAX_TEXTS:,} texts of at most {MAX_TEXT_CHARS:,} characters",
    )
    model: Literal["lexicon", "finbert"] = Field(
        default="lexicon",
        description="lexicon (Loughran-McDonald + direction words) or finbert (needs "
        "QUANTDESK_SENTIMENT_FINBERT_PATH)",
    )


class HitRead(BaseModel):
    word: str
    category: str
    weight: float

    @classmethod
    def of(cls, hit: Hit) -> HitRead:
        return cls(word=hit.word, category=hit.category, weight=hit.weight)


class ScoreRead(BaseModel):
    score: float = Field(description="In [-1, 1]")
    label: Literal["positive", "negative", "neutral"]
    model: str
    model_version: str
    hits: list[HitRead] = Field(description="The evidence behind the label")

    @classmethod
    def of(cls, score: SentimentScore) -> ScoreRead:
        return cls(
            score=score.score,
            label=score.label,
            model=score.model,
            model_version=score.model_version,
            hits=[HitRead.of(hit) for hit in score.hits],
        )


class ScoreMeta(BaseModel):
    count: int
    model: str
    model_version: str | None


class ScoreResponse(BaseModel):
    data: list[ScoreRead]
    meta: ScoreMeta


class VoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vote: VoteKind = Field(description="bullish, bearish or neutral")


class VoteRead(BaseModel):
    symbol: str
    day: date = Field(description="The UTC day the vote counts for")
    vote: VoteKind
    replaced: VoteKind | None = Field(description="The vote it replaced today, if any")
    updated_at: datetime


class VoteResponse(BaseModel):
    data: VoteRead


class VoteCounts(BaseModel):
    bullish: int = 0
    bearish: int = 0
    neutral: int = 0
    total: int = 0
    score: float | None = Field(
        default=None, description="(bullish - bearish) / total, in [-1, 1]; null without votes"
    )


class VotesRead(BaseModel):
    window: VoteCounts = Field(description="Votes over the UTC days of the window")
    today: VoteCounts = Field(description="Votes of the current UTC day")
    my_vote_today: VoteKind | None = Field(description="The caller's vote today, if signed in")
    window_start_day: date
    window_end_day: date


class NewsCounts(BaseModel):
    positive: int = 0
    negative: int = 0
    neutral: int = 0
    total: int = 0


class TopItem(BaseModel):
    id: int
    title: str
    url: str | None
    source: str
    published_at: datetime
    score: float
    label: str
    model: str
    hits: list[HitRead]


class TrendPoint(BaseModel):
    day: date
    count: int
    score: float | None = Field(description="Mean item score of the UTC day; null: no items")


class SymbolSentiment(BaseModel):
    symbol: str
    score: float | None = Field(description="Mean score of the window's news items, [-1, 1]")
    label: SymbolLabel | None
    counts: NewsCounts
    top_items: list[TopItem] = Field(description="Strongest items (largest |score|), with hits")
    trend: list[TrendPoint] = Field(description="One point per UTC day of the window")
    votes: VotesRead
    window: str
    window_start: datetime
    window_end: datetime


class SymbolSentimentMeta(BaseModel):
    provider: str = Field(description="Where the news items came from (their providers)")
    as_of: datetime | None = Field(description="Newest news item in the window")
    anchored: Literal["now", "latest_item", "end"] = Field(
        description="What the news window ends at: now, the symbol's newest stored item "
        "(when none is newer than the window), or the `end` asked for"
    )
    hint: str | None = None


class SymbolSentimentResponse(BaseModel):
    data: SymbolSentiment
    meta: SymbolSentimentMeta
