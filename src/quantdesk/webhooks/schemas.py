"""Request and response bodies of /webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from quantdesk.kit.pagination import ListMeta
from quantdesk.kit.schemas import Instant, RequestModel
from quantdesk.models.webhooks import DeliveryStatus, WebhookStatus
from quantdesk.webhooks.events import WEBHOOK_EVENTS


def _known_events(value: list[str]) -> list[str]:
    unknown = [name for name in value if name not in WEBHOOK_EVENTS]
    if unknown:
        raise ValueError(
            f"unknown event(s) {', '.join(unknown)}; webhooks carry {', '.join(WEBHOOK_EVENTS)}"
        )
    return list(dict.fromkeys(value))


class WebhookCreate(RequestModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048, description="https URL (http in development)")
    events: list[str] = Field(min_length=1, max_length=len(WEBHOOK_EVENTS))
    description: str | None = Field(default=None, max_length=500)

    _events = field_validator("events")(_known_events)


class WebhookUpdate(RequestModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=1, max_length=2048)
    events: list[str] | None = Field(default=None, min_length=1, max_length=len(WEBHOOK_EVENTS))
    description: str | None = Field(default=None, max_length=500)
    status: Literal["active", "disabled"] | None = None

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _known_events(value)


class ReplaySince(RequestModel):
    model_config = ConfigDict(extra="forbid")

    since: Instant = Field(description="Replay every failed delivery created at or after this")


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    events: list[str]
    description: str | None
    status: WebhookStatus
    disabled_reason: str | None
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookListMeta(ListMeta):
    hint: str | None = Field(
        None, description="With no webhook yet: how to create one and which events exist"
    )


class WebhookList(BaseModel):
    data: list[WebhookRead]
    meta: WebhookListMeta


NO_WEBHOOKS_HINT = (
    'No webhooks yet: POST /api/v1/webhooks {"url": "https://...", "events": [...]} '
    "(events: " + ", ".join(WEBHOOK_EVENTS) + "); the signing secret is shown once."
)


class WebhookCreated(WebhookRead):
    secret: str = Field(description="The signing secret (whsec_...): shown only this once")


class SecretRotated(BaseModel):
    id: str
    secret: str = Field(description="The new signing secret: shown only this once")
    previous_secret_expires_at: datetime = Field(
        description="Until then deliveries carry a signature with the old secret too"
    )


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    trigger: str
    started_at: datetime
    latency_ms: int
    status_code: int | None
    response: str | None
    error: str | None


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="The webhook-id header of every attempt")
    event_type: str
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    last_latency_ms: int | None = None
    last_response: str | None = None


class DeliveryDetail(DeliveryRead):
    body: str
    attempt_log: list[AttemptRead]


class Queued(BaseModel):
    delivery_id: str
    status: DeliveryStatus


class Replayed(BaseModel):
    replayed: int
