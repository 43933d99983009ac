"""Market overview tables: the per-instrument snapshot the screener reads and the refresh record.

`market_snapshot` holds one row per instrument with daily data: its last complete session's
OHLCV and change, indicator values (computed by the engine) and fundamentals ratios. The
`market.refresh` job rewrites it. The overview relations (`market_summary`, `market_sectors`,
`market_movers`) are derived from it: materialized views on PostgreSQL, tables rebuilt by the
same job on SQLite. They are not models (their kind differs per database); `DERIVED_RELATIONS`
names them so `alembic check` leaves them alone.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Double, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from quantdesk.models.base import Base, UTCDateTime, utcnow

DERIVED_RELATIONS = frozenset({"market_summary", "market_sectors", "market_movers"})


class MarketSnapshot(Base):
    __tablename__ = "market_snapshot"
    __table_args__ = (
        Index("ix_market_snapshot_change_pct", "change_pct"),
        Index("ix_market_snapshot_volume", "volume"),
        Index("ix_market_snapshot_market_cap", "market_cap"),
        Index("ix_market_snapshot_sector", "sector"),
    )

    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )
    symbol: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    asset_class: Mapped[str] = mapped_column(String(16))
    exchange: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    sector: Mapped[str | None] = mapped_column(String(64))
    industry: Mapped[str | None] = mapped_column(String(128))
    country: Mapped[str | None] = mapped_column(String(2))
    timeframe: Mapped[str] = mapped_column(String(3))  # the bars the sessions came from
    session: Mapped[date] = mapped_column(Date)  # the instrument's last complete session
    price: Mapped[float] = mapped_column(Double)
    previous_close: Mapped[float | None] = mapped_column(Double)
    change: Mapped[float | None] = mapped_column(Double)
    change_pct: Mapped[float | None] = mapped_column(Double)
    open: Mapped[float] = mapped_column(Double)
    high: Mapped[float] = mapped_column(Double)
    low: Mapped[float] = mapped_column(Double)
    volume: Mapped[float] = mapped_column(Double)
    turnover: Mapped[float] = mapped_column(Double)  # close x volume
    market_cap: Mapped[float | None] = mapped_column(Double)
    pe: Mapped[float | None] = mapped_column(Double)
    rsi_14: Mapped[float | None] = mapped_column(Double)
    sma_50: Mapped[float | None] = mapped_column(Double)
    sma_200: Mapped[float | None] = mapped_column(Double)
    sma_50_distance_pct: Mapped[float | None] = mapped_column(Double)
    sma_200_distance_pct: Mapped[float | None] = mapped_column(Double)
    sentiment: Mapped[float | None] = mapped_column(Double)
    # The session is its asset class's latest one (stale instruments are not in the overview).
    current: Mapped[bool] = mapped_column(Boolean)
    # current, and price and volume at or above the overview's minimums.
    qualifies: Mapped[bool] = mapped_column(Boolean)


class MarketRefresh(Base):
    """The last `market.refresh` run (one row, id 1): when, how long, what it saw."""

    __tablename__ = "market_refresh"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_ms: Mapped[float] = mapped_column(Double)
    instruments: Mapped[int] = mapped_column(Integer)  # active instruments seen
    snapshot_rows: Mapped[int] = mapped_column(Integer)
    qualifying: Mapped[int] = mapped_column(Integer)
    min_price: Mapped[float] = mapped_column(Double)
    min_volume: Mapped[float] = mapped_column(Double)
