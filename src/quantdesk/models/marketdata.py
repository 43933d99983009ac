"""Market data tables: instruments, bars, latest quotes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Double,
    ForeignKey,
    Integer,
    String,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from quantdesk.models.base import Base, UTCDateTime, str_enum, utcnow


class AssetClass(StrEnum):
    EQUITY = "equity"
    FX = "fx"
    CRYPTO = "crypto"
    INDEX = "index"
    FUND = "fund"


class Instrument(Base):
    __tablename__ = "instruments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    exchange: Mapped[str] = mapped_column(String(32), index=True)
    asset_class: Mapped[AssetClass] = mapped_column(
        str_enum(AssetClass, "asset_class"),
        index=True,
    )
    currency: Mapped[str] = mapped_column(String(3))
    sector: Mapped[str | None] = mapped_column(String(64))
    industry: Mapped[str | None] = mapped_column(String(128))
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2 of the issuer
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Bar(Base):
    """One OHLCV bar.

    `ts` is the bar's open time in integer seconds since the Unix epoch (UTC). Bars are the one
    table where a row's time is a coordinate rather than a record timestamp: it is range-scanned,
    compared and bucketed arithmetically for resampling, and stored by the million. An integer key
    makes bulk ingest (COPY / executemany) and columnar reads several times cheaper than a
    datetime on both databases, and is converted to ISO-8601 `Z` only at the API edge.
    Prices are floats by design: analytics, not money (ledger tables use Numeric).
    """

    __tablename__ = "bars"
    __table_args__ = (
        CheckConstraint("high >= low", name="high_ge_low"),
        CheckConstraint("volume >= 0", name="volume_non_negative"),
    )

    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )
    timeframe: Mapped[str] = mapped_column(String(3), primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    open: Mapped[float] = mapped_column(Double)
    high: Mapped[float] = mapped_column(Double)
    low: Mapped[float] = mapped_column(Double)
    close: Mapped[float] = mapped_column(Double)
    volume: Mapped[float] = mapped_column(Double)


class Quote(Base):
    """The latest quote per instrument, refreshed by ingest (and later by live providers)."""

    __tablename__ = "quotes"

    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )
    price: Mapped[float] = mapped_column(Double)
    previous_close: Mapped[float | None] = mapped_column(Double)
    change: Mapped[float | None] = mapped_column(Double)
    change_pct: Mapped[float | None] = mapped_column(Double)
    day_open: Mapped[float | None] = mapped_column(Double)
    day_high: Mapped[float | None] = mapped_column(Double)
    day_low: Mapped[float | None] = mapped_column(Double)
    volume: Mapped[float | None] = mapped_column(Double)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
