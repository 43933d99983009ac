"""/webhooks: the caller's webhook endpoints (scope `manage:webhooks`; docs/webhooks.md).
Someone else's webhook or delivery answers 404 exactly like a missing one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from quantdesk.access.principal import Principal
from quantdesk.access.scopes import Scope
from quantdesk.auth.dependencies import owner_id, require
from quantdesk.dependencies import SessionDep, SettingsDep
from quantdesk.kit.pagination import ListMeta, Page
from quantdesk.models.webhooks import DeliveryStatus
from quantdesk.webhooks.schemas import (
    NO_WEBHOOKS_HINT,
    AttemptRead,
    DeliveryDetail,
    DeliveryRead,
    Queued,
    Replayed,
    ReplaySince,
    SecretRotated,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookListMeta,
    WebhookRead,
    WebhookUpdate,
)
from quantdesk.webhooks.service import DeliveryRow, webhook_service

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

ManageWebhooks = Annotated[Principal, Depends(require(Scope.MANAGE_WEBHOOKS))]
WebhookId = Annotated[str, Path(min_length=1, max_length=32, description="Webhook id")]
DeliveryId = Annotated[str, Path(min_length=1, max_length=40, description="Delivery id")]


def _delivery(row: DeliveryRow) -> DeliveryRead:
    read = DeliveryRead.model_validate(row.delivery)
    return read.model_copy(
        update={"last_latency_ms": row.last_latency_ms, "last_response": row.last_response}
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    description=(
        "Subscribe a URL to events. The answer carries the signing secret (`whsec_...`, "
        "Standard Webhooks) once; it is never shown again."
    ),
)
async def create_webhook(
    body: WebhookCreate,
    principal: ManageWebhooks,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> WebhookCreated:
    created = await webhook_service.create(session, settings, principal, body)
    response.headers["Location"] = f"/api/v1/webhooks/{created.endpoint.id}"
    read = WebhookRead.model_validate(created.endpoint)
    return WebhookCreated(**read.model_dump(), secret=created.secret)


@router.get("", description="The caller's webhooks, oldest first (no secrets).")
async def list_webhooks(principal: ManageWebhooks, session: SessionDep) -> WebhookList:
    rows = await webhook_service.list_own(session, owner_id(principal))
    data = [WebhookRead.model_validate(row) for row in rows]
    hint = None if data else NO_WEBHOOKS_HINT
    return WebhookList(data=data, meta=WebhookListMeta(count=len(data), hint=hint))


@router.get("/{webhook_id}")
async def get_webhook(
    webhook_id: WebhookId, principal: ManageWebhooks, session: SessionDep
) -> WebhookRead:
    endpoint = await webhook_service.get(session, owner_id(principal), webhook_id)
    return WebhookRead.model_validate(endpoint)


@router.patch(
    "/{webhook_id}",
    description="Change the URL, events or description; `status` disables or re-enables it.",
)
async def update_webhook(
    webhook_id: WebhookId,
    body: WebhookUpdate,
    principal: ManageWebhooks,
    session: SessionDep,
    settings: SettingsDep,
) -> WebhookRead:
    endpoint = await webhook_service.update(
        session, settings, owner_id(principal), webhook_id, body
    )
    return WebhookRead.model_validate(endpoint)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(
    webhook_id: WebhookId, principal: ManageWebhooks, session: SessionDep
) -> None:
    await webhook_service.delete(session, principal, webhook_id)


@router.post(
    "/{webhook_id}/rotate-secret",
    description=(
        "A new signing secret (shown once). For 24 hours deliveries carry two `v1,` "
        "signatures, one per secret, so receivers can switch without losing events."
    ),
)
async def rotate_secret(
    webhook_id: WebhookId, principal: ManageWebhooks, session: SessionDep, settings: SettingsDep
) -> SecretRotated:
    rotated = await webhook_service.rotate(session, settings, principal, webhook_id)
    return SecretRotated(
        id=rotated.endpoint_id,
        secret=rotated.secret,
        previous_secret_expires_at=rotated.previous_expires_at,
    )


@router.post(
    "/{webhook_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    description="Queue a `webhook.test` event for this webhook, delivered like any other.",
)
async def test_webhook(
    webhook_id: WebhookId, principal: ManageWebhooks, session: SessionDep
) -> Queued:
    delivery_id = await webhook_service.send_test(session, owner_id(principal), webhook_id)
    return Queued(delivery_id=delivery_id, status=DeliveryStatus.PENDING)


@router.get(
    "/{webhook_id}/deliveries",
    description="Deliveries, newest first: status, attempts, the last attempt's latency, answer.",
)
async def list_deliveries(
    webhook_id: WebhookId,
    principal: ManageWebhooks,
    session: SessionDep,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[DeliveryRead]:
    page = await webhook_service.deliveries(
        session, owner_id(principal), webhook_id, status=status_, cursor=cursor, limit=limit
    )
    data = [_delivery(row) for row in page.rows]
    return Page[DeliveryRead](
        data=data, meta=ListMeta(count=len(data), next_cursor=page.next_cursor)
    )


@router.get("/{webhook_id}/deliveries/{delivery_id}", description="A delivery and every attempt.")
async def get_delivery(
    webhook_id: WebhookId, delivery_id: DeliveryId, principal: ManageWebhooks, session: SessionDep
) -> DeliveryDetail:
    delivery, attempts = await webhook_service.delivery(
        session, owner_id(principal), webhook_id, delivery_id
    )
    read = DeliveryRead.model_validate(delivery)
    log = [AttemptRead.model_validate(a) for a in attempts]
    return DeliveryDetail(**read.model_dump(), body=delivery.body, attempt_log=log)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    description="Send this delivery once more, now.",
)
async def replay_delivery(
    webhook_id: WebhookId, delivery_id: DeliveryId, principal: ManageWebhooks, session: SessionDep
) -> Queued:
    delivery = await webhook_service.replay(session, owner_id(principal), webhook_id, delivery_id)
    return Queued(delivery_id=delivery.id, status=delivery.status)


@router.post(
    "/{webhook_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    description="Send every failed delivery created at or after `since` once more, now.",
)
async def replay_failed(
    webhook_id: WebhookId, body: ReplaySince, principal: ManageWebhooks, session: SessionDep
) -> Replayed:
    count = await webhook_service.replay_failed_since(
        session, owner_id(principal), webhook_id, body.since
    )
    return Replayed(replayed=count)
