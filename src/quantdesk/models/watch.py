"""Watchlists (symbols with notes) and price alerts with their trigger records."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from quantdesk.models.base import Base, UTCDateTime, str_enum, utcnow
from quantdesk.models.portfolio import Fixed8, RowId


class Watchlist(Base):
    __tablename__ = "watchlists"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WatchlistItem(Base):
    __tablename__ = "watchlist_items"

    watchlist_id: Mapped[str] = mapped_column(
        ForeignKey("watchlists.id", ondelete="CASCADE"), primary_key=True
    )
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    note: Mapped[str | None] = mapped_column(String(500))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertCondition(StrEnum):
    ABOVE = "above"
    BELOW = "below"
    CROSSING_UP = "crossing_up"
    CROSSING_DOWN = "crossing_down"


class AlertFrequency(StrEnum):
    ONCE = "once"
    EVERY_BAR = "every_bar"


class PriceAlertStatus(StrEnum):
    ACTIVE = "active"
    TRIGGERED = "triggered"  # a `once` alert that fired
    EXPIRED = "expired"


class PriceAlert(Base):
    """A price alert on a symbol. Crossings compare with `last_price`, the previous sample the
    alert saw (none yet: no crossing). `expires_at` is compared with market time."""

    __tablename__ = "price_alerts"
    __table_args__ = (Index("ix_price_alerts_symbol_status", "symbol", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    condition: Mapped[AlertCondition] = mapped_column(str_enum(AlertCondition, "alert_condition"))
    level: Mapped[Decimal] = mapped_column(Fixed8)
    frequency: Mapped[AlertFrequency] = mapped_column(
        str_enum(AlertFrequency, "alert_frequency"), default=AlertFrequency.ONCE
    )
    status: Mapped[PriceAlertStatus] = mapped_column(
        str_enum(PriceAlertStatus, "price_alert_status"), default=PriceAlertStatus.ACTIVE
    )
    note: Mapped[str | None] = mapped_column(String(500))
    last_price: Mapped[Decimal | None] = mapped_column(Fixed8)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    trigger_count: Mapped[int] = mapped_column(BigInteger, default=0)
    last_triggered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PriceAlertTrigger(Base):
    """One firing. UNIQUE (alert_id, bar_ts): an alert fires at most once per market event
    time, however often the event is delivered."""

    __tablename__ = "price_alert_triggers"
    __table_args__ = (UniqueConstraint("alert_id", "bar_ts"),)

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(
        ForeignKey("price_alerts.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    bar_ts: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[Decimal] = mapped_column(Fixed8)
    condition: Mapped[AlertCondition] = mapped_column(str_enum(AlertCondition, "trigger_condition"))
    level: Mapped[Decimal] = mapped_column(Fixed8)
    triggered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
