"""/admin: users and keys (manage:users) and the audit log (system:admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from quantdesk.audit.schemas import AuditChain, AuditChainResponse, AuditEventRead
from quantdesk.audit.service import audit_service
from quantdesk.auth.admin import admin_service
from quantdesk.auth.dependencies import ManageUsers, SystemAdmin
from quantdesk.auth.schemas import ApiKeyRead, UserRead, UserRoleUpdate
from quantdesk.dependencies import SessionDep
from quantdesk.kit.pagination import ListMeta, Page, decode_int_cursor, split_page
from quantdesk.kit.schemas import IdPath, IdQuery, Instant

router = APIRouter(prefix="/admin", tags=["admin"])
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=256)]


def _after(cursor: str | None) -> int | None:
    return decode_int_cursor(cursor) if cursor else None


@router.get("/users")
async def list_users(
    _: ManageUsers, session: SessionDep, cursor: Cursor = None, limit: Limit = 100
) -> Page[UserRead]:
    rows = await admin_service.users(session, after_id=_after(cursor), limit=limit + 1)
    users, next_cursor = split_page(rows, limit, lambda user: user.id)
    page = [UserRead.model_validate(user) for user in users]
    return Page[UserRead](data=page, meta=ListMeta(count=len(page), next_cursor=next_cursor))


@router.patch("/users/{user_id}/role")
async def change_role(
    user_id: IdPath, body: UserRoleUpdate, admin: ManageUsers, session: SessionDep
) -> UserRead:
    return UserRead.model_validate(
        await admin_service.change_role(session, admin, user_id, body.role)
    )


@router.post("/users/{user_id}/deactivate")
async def deactivate_user(user_id: IdPath, admin: ManageUsers, session: SessionDep) -> UserRead:
    return UserRead.model_validate(await admin_service.deactivate(session, admin, user_id))


@router.get("/api-keys")
async def list_all_api_keys(
    _: ManageUsers, session: SessionDep, cursor: Cursor = None, limit: Limit = 100
) -> Page[ApiKeyRead]:
    rows = await admin_service.api_keys(session, after_id=_after(cursor), limit=limit + 1)
    keys, next_cursor = split_page(rows, limit, lambda key: key.id)
    page = [ApiKeyRead.model_validate(key) for key in keys]
    return Page[ApiKeyRead](data=page, meta=ListMeta(count=len(page), next_cursor=next_cursor))


@router.get("/audit")
async def audit_log(
    _: SystemAdmin,
    session: SessionDep,
    action: Annotated[str | None, Query(max_length=64)] = None,
    user_id: IdQuery = None,
    outcome: Annotated[str | None, Query(max_length=16)] = None,
    since: Instant | None = None,
    until: Instant | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[AuditEventRead]:
    """Newest first."""
    rows = await audit_service.search(
        session,
        action=action,
        user_id=user_id,
        outcome=outcome,
        since=since,
        until=until,
        before_id=_after(cursor),
        limit=limit + 1,
    )
    page, next_cursor = split_page(rows, limit, lambda event: event.id)
    data = [AuditEventRead.model_validate(event) for event in page]
    return Page[AuditEventRead](data=data, meta=ListMeta(count=len(data), next_cursor=next_cursor))


@router.get("/audit/verify")
async def verify_audit_chain(_: SystemAdmin, session: SessionDep) -> AuditChainResponse:
    """Walk the whole hash chain: `ok`, or the first broken row's id and the reason."""
    report = await audit_service.verify(session)
    return AuditChainResponse(
        data=AuditChain(
            rows=report.rows,
            ok=report.ok,
            first_broken_id=report.first_broken_id,
            reason=report.reason,
        )
    )
