"""Reference data fetched on a schedule: FX rates, dated series (economic indicators and fund
NAVs) and company fundamentals.

Each table's primary key is its natural key (what a re-fetch of the same data would repeat),
so the jobs that fill them upsert: running one twice leaves the same rows. Days are calendar
dates (UTC); `fetched_at` says when the provider answered.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, Double, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from quantdesk.models.base import Base, UTCDateTime, str_enum, utcnow


class SeriesKind(StrEnum):
    """The provider data kind a series comes from (DataKind values)."""

    ECONOMIC = "economic_series"
    FUND_NAV = "fund_navs"


class FxRateKind(StrEnum):
    """Which price a rate is: the reference (mid) rate, or what the publisher's counters pay
    (`buy`: the bank buys `base` from a client) and charge (`sell`: the bank sells it)."""

    MID = "mid"
    BUY = "buy"
    SELL = "sell"


class FxRate(Base):
    """1 `base` = `rate` units of `quote`, as `source` published it for `day` (`kind`: mid,
    buy or sell). `source` is the publisher (`ecb`, `bam`, a chain provider's name); `provider`
    says where the stored copy came from (e.g. the ECB history shipped in a package)."""

    __tablename__ = "fx_rates"
    __table_args__ = (Index("ix_fx_rates_source_day", "base", "kind", "source", "day"),)

    base: Mapped[str] = mapped_column(String(8), primary_key=True)
    quote: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[FxRateKind] = mapped_column(
        str_enum(FxRateKind, "fx_rate_kind", length=8), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    rate: Mapped[float] = mapped_column(Double)
    provider: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SeriesObservation(Base):
    """One dated value of an economic series (FRED id) or a fund's NAV."""

    __tablename__ = "series_observations"

    kind: Mapped[SeriesKind] = mapped_column(str_enum(SeriesKind, "series_kind"), primary_key=True)
    series_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[float] = mapped_column(Double)
    provider: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FundamentalsSnapshot(Base):
    """A company's reported figures for the period ending `as_of` (flat name -> value)."""

    __tablename__ = "fundamentals_snapshots"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    provider: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
