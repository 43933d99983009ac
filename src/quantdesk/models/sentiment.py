"""Sentiment votes (analytics/sentiment): one vote per user, symbol and UTC day.

A second vote the same day replaces the first (the unique key is user, symbol, day);
`updated_at` says when it last changed. Aggregates read `(symbol, day)` through its index.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from quantdesk.models.base import Base, UTCDateTime, str_enum, utcnow


class VoteKind(StrEnum):
    BULLISH = "bullish"
    BEARISH = "bearish"
    NEUTRAL = "neutral"


class SentimentVote(Base):
    __tablename__ = "sentiment_votes"
    __table_args__ = (
        UniqueConstraint("user_id", "symbol", "day", name="uq_sentiment_votes_user_symbol_day"),
        Index("ix_sentiment_votes_symbol_day", "symbol", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    symbol: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    vote: Mapped[VoteKind] = mapped_column(str_enum(VoteKind, "sentiment_vote_kind"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
