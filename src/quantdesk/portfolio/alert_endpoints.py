"""/alerts: the caller's price alerts and their firings (any signed-in user; someone else's
alert answers 404 exactly like a missing one). Evaluation happens in the desk, on each market
event (portfolio/alerts.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from quantdesk.auth.dependencies import SignedIn, owner_id
from quantdesk.dependencies import SessionDep
from quantdesk.kit.pagination import ListMeta, Page
from quantdesk.kit.symbols import SYMBOL_PATTERN
from quantdesk.models.watch import PriceAlertStatus
from quantdesk.portfolio.alerts import price_alert_service
from quantdesk.portfolio.watch_schemas import (
    PriceAlertCreate,
    PriceAlertRead,
    PriceAlertTriggerRead,
)

router = APIRouter(tags=["alerts"])

AlertId = Annotated[str, Path(min_length=1, max_length=64, description="Price alert id")]
Cursor = Annotated[str | None, Query(max_length=512)]
Limit = Annotated[int, Query(ge=1, le=500)]


@router.post(
    "/alerts",
    status_code=status.HTTP_201_CREATED,
    description=(
        "Create a price alert on a symbol: `condition` above | below | crossing_up | "
        "crossing_down a `level` (decimal string), `frequency` once | every_bar, optional "
        "`expires_at` (market time) and `note`. Evaluated on every market event of the symbol."
    ),
)
async def create_alert(
    body: PriceAlertCreate, principal: SignedIn, session: SessionDep, response: Response
) -> PriceAlertRead:
    alert = await price_alert_service.create(session, user_id=owner_id(principal), body=body)
    response.headers["Location"] = f"/api/v1/alerts/{alert.id}"
    return PriceAlertRead.model_validate(alert)


@router.get("/alerts", description="The caller's price alerts, newest first, cursor pages.")
async def list_alerts(
    principal: SignedIn,
    session: SessionDep,
    status_: Annotated[PriceAlertStatus | None, Query(alias="status")] = None,
    symbol: Annotated[str | None, Query(pattern=SYMBOL_PATTERN)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[PriceAlertRead]:
    page = await price_alert_service.search(
        session,
        user_id=owner_id(principal),
        status=status_,
        symbol=symbol.upper() if symbol else None,
        cursor=cursor,
        limit=limit,
    )
    data = [PriceAlertRead.model_validate(alert) for alert in page.alerts]
    return Page[PriceAlertRead](
        data=data, meta=ListMeta(count=len(data), next_cursor=page.next_cursor)
    )


@router.get("/alerts/triggers", description="Every firing of the caller's alerts, newest first.")
async def list_all_triggers(
    principal: SignedIn, session: SessionDep, cursor: Cursor = None, limit: Limit = 50
) -> Page[PriceAlertTriggerRead]:
    page = await price_alert_service.triggers(
        session, user_id=owner_id(principal), cursor=cursor, limit=limit
    )
    data = [PriceAlertTriggerRead.model_validate(row) for row in page.triggers]
    return Page[PriceAlertTriggerRead](
        data=data, meta=ListMeta(count=len(data), next_cursor=page.next_cursor)
    )


@router.get("/alerts/{alert_id}")
async def get_alert(alert_id: AlertId, principal: SignedIn, session: SessionDep) -> PriceAlertRead:
    alert = await price_alert_service.get(session, user_id=owner_id(principal), alert_id=alert_id)
    return PriceAlertRead.model_validate(alert)


@router.delete("/alerts/{alert_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_alert(alert_id: AlertId, principal: SignedIn, session: SessionDep) -> None:
    await price_alert_service.delete(session, user_id=owner_id(principal), alert_id=alert_id)


@router.get("/alerts/{alert_id}/triggers", description="This alert's firings, newest first.")
async def list_triggers(
    alert_id: AlertId,
    principal: SignedIn,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[PriceAlertTriggerRead]:
    page = await price_alert_service.triggers(
        session, user_id=owner_id(principal), alert_id=alert_id, cursor=cursor, limit=limit
    )
    data = [PriceAlertTriggerRead.model_validate(row) for row in page.triggers]
    return Page[PriceAlertTriggerRead](
        data=data, meta=ListMeta(count=len(data), next_cursor=page.next_cursor)
    )
