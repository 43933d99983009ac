"""Webhook endpoints (subscriptions), their deliveries (the outbox) and every attempt made."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from quantdesk.models.base import Base, UTCDateTime, str_enum, utcnow
from quantdesk.models.portfolio import RowId


class WebhookStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt (`next_attempt_at`)
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # out of attempts, or its endpoint was disabled


class WebhookEndpoint(Base):
    """A user's webhook: where to POST which events. The signing secrets are stored encrypted
    (webhooks/signing.py); the previous one keeps signing until `previous_secret_expires_at`."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_status_user", "status", "user_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(String(500))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[WebhookStatus] = mapped_column(
        str_enum(WebhookStatus, "webhook_status"), default=WebhookStatus.ACTIVE
    )
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    secret: Mapped[str] = mapped_column(String(255))
    previous_secret: Mapped[str | None] = mapped_column(String(255))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The first failed attempt since the last success (None while healthy).
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WebhookDelivery(Base):
    """One event for one endpoint, written in the transaction of the event's cause. Its id is
    the `webhook-id` header (the same on every retry). A worker owns it while `locked_until`
    is in the future."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # the exact JSON sent on every attempt
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "webhook_delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery: its answer (body capped), latency or error."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(16))  # scheduled | manual
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    latency_ms: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[str | None] = mapped_column(Text)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(500))
