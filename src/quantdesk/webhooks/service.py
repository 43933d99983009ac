"""Webhooks: the caller's endpoints, their deliveries, test events and replays.

Someone else's webhook or delivery answers 404 exactly like a missing one. Secrets are shown
once (create, rotate), stored encrypted, and never part of a read, a list or a log line.
Creating, deleting and rotating are audited.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.access.principal import Principal
from quantdesk.audit.service import audit_service
from quantdesk.auth.dependencies import owner_id
from quantdesk.config import Settings
from quantdesk.db import after_commit
from quantdesk.errors import Conflict, NotFound, Unprocessable, field_error
from quantdesk.kit.pagination import decode_time_id_cursor, encode_cursor, time_id_key
from quantdesk.models import utcnow
from quantdesk.models.webhooks import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookStatus,
)
from quantdesk.webhooks import events, outbox
from quantdesk.webhooks.dispatcher import REPLAY_MARK
from quantdesk.webhooks.schemas import WebhookCreate, WebhookUpdate
from quantdesk.webhooks.secrets import ROTATION_OVERLAP_HOURS, secret_box
from quantdesk.webhooks.signing import new_secret
from quantdesk.webhooks.ssrf import check_url


class WebhookNotFound(NotFound):
    code = "webhook-not-found"

    def __init__(self, webhook_id: str) -> None:
        super().__init__(f"no webhook {webhook_id!r}")


class DeliveryNotFound(NotFound):
    code = "webhook-delivery-not-found"

    def __init__(self, delivery_id: str) -> None:
        super().__init__(f"no delivery {delivery_id!r}")


class WebhookDisabled(Conflict):
    code = "webhook-disabled"

    def __init__(self, webhook_id: str) -> None:
        super().__init__(f"webhook {webhook_id!r} is disabled: re-enable it first (status=active)")


@dataclass(frozen=True, slots=True)
class Created:
    endpoint: WebhookEndpoint
    secret: str


@dataclass(frozen=True, slots=True)
class Rotated:
    endpoint_id: str
    secret: str
    previous_expires_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    delivery: WebhookDelivery
    last_latency_ms: int | None
    last_response: str | None


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    rows: list[DeliveryRow]
    next_cursor: str | None


def _url(url: str, settings: Settings) -> str:
    try:
        return check_url(url, settings)
    except ValueError as error:
        raise Unprocessable(
            f"url: {error}", errors=[field_error(["body", "url"], str(error))]
        ) from None


def _changed(session: AsyncSession) -> None:
    outbox.forget_subscriptions()
    after_commit(session, outbox.forget_subscriptions)


class WebhookService:
    async def create(
        self, session: AsyncSession, settings: Settings, principal: Principal, body: WebhookCreate
    ) -> Created:
        user_id = owner_id(principal)
        count = await session.scalar(
            select(func.count())
            .select_from(WebhookEndpoint)
            .where(WebhookEndpoint.user_id == user_id)
        )
        if (count or 0) >= settings.webhooks_max_per_user:
            raise Conflict(f"at most {settings.webhooks_max_per_user} webhooks per user")
        secret = new_secret()
        endpoint = WebhookEndpoint(
            id="wh_" + secrets.token_hex(10),
            user_id=user_id,
            url=_url(body.url, settings),
            description=body.description,
            events=body.events,
            status=WebhookStatus.ACTIVE,
            secret=secret_box(settings).seal(secret),
        )
        session.add(endpoint)
        await session.flush()
        await audit_service.record(
            session,
            action="webhook.created",
            actor=principal,
            resource_type="webhook",
            resource_id=endpoint.id,
            details={"url": endpoint.url, "events": endpoint.events},
        )
        _changed(session)
        return Created(endpoint, secret)

    async def get(self, session: AsyncSession, user_id: int, webhook_id: str) -> WebhookEndpoint:
        endpoint = await session.get(WebhookEndpoint, webhook_id)
        if endpoint is None or endpoint.user_id != user_id:
            raise WebhookNotFound(webhook_id)
        return endpoint

    async def list_own(self, session: AsyncSession, user_id: int) -> list[WebhookEndpoint]:
        rows = await session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.user_id == user_id)
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
        return list(rows)

    async def update(
        self,
        session: AsyncSession,
        settings: Settings,
        user_id: int,
        webhook_id: str,
        body: WebhookUpdate,
    ) -> WebhookEndpoint:
        endpoint = await self.get(session, user_id, webhook_id)
        fields = body.model_fields_set
        if "url" in fields and body.url is not None:
            endpoint.url = _url(body.url, settings)
        if "events" in fields and body.events is not None:
            endpoint.events = body.events
        if "description" in fields:
            endpoint.description = body.description
        if "status" in fields and body.status is not None:
            status = WebhookStatus(body.status)
            if status is WebhookStatus.ACTIVE and endpoint.status is not WebhookStatus.ACTIVE:
                endpoint.disabled_reason = None
                endpoint.failing_since = None
            elif status is WebhookStatus.DISABLED and endpoint.status is WebhookStatus.ACTIVE:
                endpoint.disabled_reason = "disabled by its owner"
            endpoint.status = status
        endpoint.updated_at = utcnow()
        await session.flush()
        _changed(session)
        return endpoint

    async def delete(self, session: AsyncSession, principal: Principal, webhook_id: str) -> None:
        endpoint = await self.get(session, owner_id(principal), webhook_id)
        await session.delete(endpoint)
        await session.flush()
        await audit_service.record(
            session,
            action="webhook.deleted",
            actor=principal,
            resource_type="webhook",
            resource_id=webhook_id,
            details={"url": endpoint.url},
        )
        _changed(session)

    async def rotate(
        self, session: AsyncSession, settings: Settings, principal: Principal, webhook_id: str
    ) -> Rotated:
        endpoint = await self.get(session, owner_id(principal), webhook_id)
        secret = new_secret()
        expires = utcnow() + timedelta(hours=ROTATION_OVERLAP_HOURS)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = expires
        endpoint.secret = secret_box(settings).seal(secret)
        endpoint.updated_at = utcnow()
        await session.flush()
        await audit_service.record(
            session,
            action="webhook.secret_rotated",
            actor=principal,
            resource_type="webhook",
            resource_id=webhook_id,
        )
        return Rotated(webhook_id, secret, expires)

    async def send_test(self, session: AsyncSession, user_id: int, webhook_id: str) -> str:
        """Queue a `webhook.test` event for this endpoint (delivered like any other)."""
        endpoint = await self.get(session, user_id, webhook_id)
        if endpoint.status is not WebhookStatus.ACTIVE:
            raise WebhookDisabled(webhook_id)
        now = utcnow()
        row = outbox.delivery_row(
            endpoint.id,
            events.TEST_EVENT,
            events.body(events.TEST_EVENT, {"webhook_id": endpoint.id}, now),
            now,
        )
        session.add(WebhookDelivery(**row))
        await session.flush()
        after_commit(session, outbox.wake)
        return str(row["id"])

    async def deliveries(
        self,
        session: AsyncSession,
        user_id: int,
        webhook_id: str,
        *,
        status: DeliveryStatus | None,
        cursor: str | None,
        limit: int,
    ) -> DeliveryPage:
        await self.get(session, user_id, webhook_id)
        d = WebhookDelivery
        query = select(d).where(d.endpoint_id == webhook_id)
        if status is not None:
            query = query.where(d.status == status)
        if cursor is not None:
            created, row_id = decode_time_id_cursor(cursor)
            query = query.where(
                (d.created_at < created) | ((d.created_at == created) & (d.id < row_id))
            )
        rows = list(
            await session.scalars(query.order_by(d.created_at.desc(), d.id.desc()).limit(limit + 1))
        )
        page = rows[:limit]
        last = await self._last_attempts(session, [row.id for row in page])
        next_cursor = None
        if len(rows) > limit:
            next_cursor = encode_cursor(time_id_key(page[-1].created_at, page[-1].id))
        return DeliveryPage(
            [DeliveryRow(row, *last.get(row.id, (None, None))) for row in page], next_cursor
        )

    async def _last_attempts(
        self, session: AsyncSession, ids: list[str]
    ) -> dict[str, tuple[int, str | None]]:
        if not ids:
            return {}
        a = WebhookAttempt
        newest = (
            select(a.delivery_id, func.max(a.id).label("id"))
            .where(a.delivery_id.in_(ids))
            .group_by(a.delivery_id)
            .subquery()
        )
        rows = await session.execute(
            select(a.delivery_id, a.latency_ms, a.response).join(newest, newest.c.id == a.id)
        )
        return {delivery_id: (latency, response) for delivery_id, latency, response in rows}

    async def delivery(
        self, session: AsyncSession, user_id: int, webhook_id: str, delivery_id: str
    ) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
        await self.get(session, user_id, webhook_id)
        delivery = await session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.endpoint_id != webhook_id:
            raise DeliveryNotFound(delivery_id)
        attempts = await session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.id)
        )
        return delivery, list(attempts)

    async def replay(
        self, session: AsyncSession, user_id: int, webhook_id: str, delivery_id: str
    ) -> WebhookDelivery:
        """Send a delivery once more, now (whatever its status; a pending one at once)."""
        endpoint = await self.get(session, user_id, webhook_id)
        if endpoint.status is not WebhookStatus.ACTIVE:
            raise WebhookDisabled(webhook_id)
        delivery, _ = await self.delivery(session, user_id, webhook_id, delivery_id)
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = utcnow()
        delivery.locked_until = None
        delivery.last_error = REPLAY_MARK
        await session.flush()
        after_commit(session, outbox.wake)
        return delivery

    async def replay_failed_since(
        self, session: AsyncSession, user_id: int, webhook_id: str, since: datetime
    ) -> int:
        endpoint = await self.get(session, user_id, webhook_id)
        if endpoint.status is not WebhookStatus.ACTIVE:
            raise WebhookDisabled(webhook_id)
        result = await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.endpoint_id == webhook_id,
                WebhookDelivery.status == DeliveryStatus.FAILED,
                WebhookDelivery.created_at >= since,
            )
            .values(
                status=DeliveryStatus.PENDING,
                next_attempt_at=utcnow(),
                locked_until=None,
                last_error=REPLAY_MARK,
            )
            .execution_options(synchronize_session=False)
        )
        after_commit(session, outbox.wake)
        return int(getattr(result, "rowcount", 0) or 0)


webhook_service = WebhookService()
