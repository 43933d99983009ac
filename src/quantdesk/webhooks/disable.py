"""Disabling an endpoint the dispatcher gave up on (410 Gone, or failing for too long): its
pending deliveries fail, the change is audited, and its owner gets a mail."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.audit.service import audit_service
from quantdesk.config import Settings
from quantdesk.models import User
from quantdesk.models.webhooks import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookStatus,
)
from quantdesk.webhooks import outbox


@dataclass(frozen=True, slots=True)
class DisableNotice:
    endpoint_id: str
    url: str
    email: str
    reason: str

    def message(self, settings: Settings) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = settings.mail_from
        mail["To"] = self.email
        mail["Subject"] = f"quantdesk: webhook {self.endpoint_id} was disabled"
        mail.set_content(
            f"Your webhook {self.endpoint_id} ({self.url}) was disabled: {self.reason}.\n\n"
            "Its pending deliveries were marked failed. Fix the receiver, re-enable the webhook "
            f"(PATCH /api/v1/webhooks/{self.endpoint_id} with status=active) and replay what "
            "failed (POST /api/v1/webhooks/{id}/replay).\n"
        )
        return mail


async def disable_endpoints(session: AsyncSession, reasons: dict[str, str]) -> list[DisableNotice]:
    """Disable each still-active endpoint in `reasons`; answers whom to tell."""
    query = (
        select(WebhookEndpoint.id, WebhookEndpoint.url, WebhookEndpoint.user_id, User.email)
        .join(User, User.id == WebhookEndpoint.user_id)
        .where(WebhookEndpoint.id.in_(reasons), WebhookEndpoint.status == WebhookStatus.ACTIVE)
    )
    rows = (await session.execute(query)).all()
    notices: list[DisableNotice] = []
    for endpoint_id, url, user_id, email in rows:
        reason = reasons[endpoint_id]
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id)
            .values(status=WebhookStatus.DISABLED, disabled_reason=reason[:200])
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.endpoint_id == endpoint_id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
            )
            .values(
                status=DeliveryStatus.FAILED,
                next_attempt_at=None,
                locked_until=None,
                last_error="endpoint disabled",
            )
            .execution_options(synchronize_session=False)
        )
        await audit_service.record(
            session,
            action="webhook.disabled",
            user_id=user_id,
            resource_type="webhook",
            resource_id=endpoint_id,
            details={"reason": reason},
        )
        notices.append(DisableNotice(endpoint_id, url, email, reason))
    if notices:
        outbox.forget_subscriptions()
    return notices
