"""Trading signals produced by the signal strategies, and their lifecycle."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from quantdesk.models.base import Base, UTCDateTime, str_enum, utcnow


class SignalDirection(StrEnum):
    LONG = "LONG"
    SHORT = "SHORT"


class SignalStatus(StrEnum):
    ACTIVE = "active"
    TARGET_HIT = "target_hit"
    STOPPED = "stopped"
    EXPIRED = "expired"


class Signal(Base):
    """One signal: a direction with entry, target and stop, valid for ``lifetime_bars`` bars.

    ``source_ts`` is the open time (epoch seconds) of the bar whose close produced it; one
    strategy yields at most one signal per instrument, timeframe and bar, so generation is
    idempotent. Evaluation against later bars moves ``status`` from active to its final value
    and records when and at what price (``closed_at``, ``close_price``).
    """

    __tablename__ = "signals"
    __table_args__ = (
        UniqueConstraint("instrument_id", "timeframe", "strategy", "source_ts"),
        Index("ix_signals_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), index=True
    )
    symbol: Mapped[str] = mapped_column(String(32), index=True)
    timeframe: Mapped[str] = mapped_column(String(3))
    strategy: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    direction: Mapped[SignalDirection] = mapped_column(
        str_enum(SignalDirection, "signal_direction")
    )
    entry: Mapped[float] = mapped_column(Double)
    target: Mapped[float] = mapped_column(Double)
    stop: Mapped[float] = mapped_column(Double)
    confidence: Mapped[float] = mapped_column(Double)
    rationale: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[SignalStatus] = mapped_column(
        str_enum(SignalStatus, "signal_status"), default=SignalStatus.ACTIVE
    )
    source_ts: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_price: Mapped[float | None] = mapped_column(Double)
    # Market-time lifecycle: the signal lives `lifetime_bars` bars of its timeframe; once
    # settled, `bars_held` counts the bars to the settling one and `settled_return` is the
    # return from entry to close_price (a fraction, sign adjusted for shorts).
    lifetime_bars: Mapped[int] = mapped_column(Integer, server_default="10")
    bars_held: Mapped[int | None] = mapped_column(Integer)
    settled_return: Mapped[float | None] = mapped_column(Double)
