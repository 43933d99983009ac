"""/api-keys: a signed-in user's own keys."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from quantdesk.auth.api_keys import api_key_service
from quantdesk.auth.dependencies import SignedIn
from quantdesk.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from quantdesk.dependencies import SessionDep, SettingsDep
from quantdesk.ratelimit import rate_limit

router = APIRouter(prefix="/api-keys", tags=["api keys"])


@router.post(
    "", status_code=status.HTTP_201_CREATED, dependencies=[Depends(rate_limit("api-keys-create"))]
)
async def create_api_key(
    body: ApiKeyCreate, principal: SignedIn, session: SessionDep, settings: SettingsDep
) -> ApiKeyCreated:
    key, secret = await api_key_service.create(session, settings, principal, body)
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=secret)


@router.get("")
async def list_api_keys(principal: SignedIn, session: SessionDep) -> list[ApiKeyRead]:
    return [
        ApiKeyRead.model_validate(key) for key in await api_key_service.list_own(session, principal)
    ]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(key_id: int, principal: SignedIn, session: SessionDep) -> None:
    await api_key_service.revoke(session, principal, key_id)


@router.post("/{key_id}/rotate")
async def rotate_api_key(
    key_id: int, principal: SignedIn, session: SessionDep, settings: SettingsDep
) -> ApiKeyCreated:
    key, secret = await api_key_service.rotate(session, settings, principal, key_id)
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), key=secret)
