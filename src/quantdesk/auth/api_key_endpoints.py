"""/api-keys: the caller's own keys.

Managing keys needs a signed-in session, or an API key granted `manage:api-keys` at creation
(quantdesk.auth.dependencies.key_manager); any other key is refused with 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from quantdesk.auth.api_keys import api_key_service
from quantdesk.auth.dependencies import ManageApiKeys, policy
from quantdesk.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from quantdesk.dependencies import SessionDep, SettingsDep
from quantdesk.errors import Unprocessable, field_error
from quantdesk.kit.pagination import ListMeta, Page, decode_cursor, split_page
from quantdesk.kit.schemas import IdPath

router = APIRouter(prefix="/api-keys", tags=["api keys"])


@router.post(
    "", status_code=status.HTTP_201_CREATED, dependencies=[Depends(policy("api-keys-create"))]
)
async def create_api_key(
    body: ApiKeyCreate, principal: ManageApiKeys, session: SessionDep, settings: SettingsDep
) -> ApiKeyCreated:
    key, secret = await api_key_service.create(session, settings, principal, body)
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=secret)


def _after(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    key = decode_cursor(cursor)
    if not isinstance(key, int):  # a cursor of another list
        raise Unprocessable(errors=[field_error(["query", "cursor"], "malformed cursor")])
    return key


@router.get("")
async def list_api_keys(
    principal: ManageApiKeys,
    session: SessionDep,
    cursor: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[ApiKeyRead]:
    """Oldest first, revoked and expired keys included (see `revoked_at`, `expires_at`)."""
    rows = await api_key_service.list_own(
        session, principal, after_id=_after(cursor), limit=limit + 1
    )
    keys, next_cursor = split_page(rows, limit, lambda key: key.id)
    page = [ApiKeyRead.model_validate(key) for key in keys]
    return Page[ApiKeyRead](data=page, meta=ListMeta(count=len(page), next_cursor=next_cursor))


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(key_id: IdPath, principal: ManageApiKeys, session: SessionDep) -> None:
    await api_key_service.revoke(session, principal, key_id)


@router.post("/{key_id}/rotate")
async def rotate_api_key(
    key_id: IdPath, principal: ManageApiKeys, session: SessionDep, settings: SettingsDep
) -> ApiKeyCreated:
    key, secret = await api_key_service.rotate(session, settings, principal, key_id)
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=secret)
