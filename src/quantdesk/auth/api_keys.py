"""API keys: create (secret shown once), list, revoke, rotate, and authenticate requests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.access.principal import Principal
from quantdesk.access.scopes import ROLE_SCOPES, Scope
from quantdesk.audit.service import audit_service
from quantdesk.auth import keyformat
from quantdesk.auth.key_cache import api_key_cache
from quantdesk.auth.repository import ApiKeyRepository, UserRepository
from quantdesk.auth.schemas import ApiKeyCreate
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.errors import AppError, NotFound, Unauthorized, Unprocessable, field_error
from quantdesk.models import ApiKey, utcnow

# last_used_at is refreshed at most this often: a write per request would serialize every
# API-key request on SQLite's single writer.
LAST_USED_RESOLUTION = timedelta(seconds=60)


class ApiKeyNotFound(NotFound):
    code = "api-key-not-found"

    def __init__(self) -> None:
        super().__init__("no such API key")


class BeyondOwnScopes(AppError):
    status, code, title = 403, "insufficient-scope", "Forbidden"

    def __init__(self) -> None:
        super().__init__("an API key cannot rotate a key with scopes it does not have itself")


def _granted_scopes(principal: Principal, requested: Sequence[Scope] | None) -> list[Scope]:
    """A key's scopes: what was asked for, never more than the creator holds (their role's
    scopes in a session; a key's own scopes when a key creates one). By default every one of
    those except manage:api-keys, which a key only has when asked for by name."""
    session = principal.api_key_id is None
    allowed = ROLE_SCOPES[principal.role] if session else principal.scopes
    if requested is None:
        return sorted(allowed - {Scope.MANAGE_API_KEYS})
    extra = sorted(set(requested) - allowed)
    if extra:
        whose = "your role" if session else "the API key creating it"
        raise Unprocessable(
            f"a key cannot have scopes its creator lacks: {', '.join(extra)}",
            errors=[field_error(["body", "scopes"], f"not granted to {whose}: {', '.join(extra)}")],
        )
    return sorted(set(requested))


def _expiry(data: ApiKeyCreate) -> datetime | None:
    if data.expires_at is not None and data.expires_in_days is not None:
        message = "give expires_at or expires_in_days, not both"
        raise Unprocessable(
            message,
            errors=[
                field_error(["body", "expires_at"], message),
                field_error(["body", "expires_in_days"], message),
            ],
        )
    if data.expires_in_days is not None:
        return utcnow() + timedelta(days=data.expires_in_days)
    if data.expires_at is not None and data.expires_at <= utcnow():
        raise Unprocessable(errors=[field_error(["body", "expires_at"], "must be in the future")])
    return data.expires_at


class ApiKeyService:
    async def create(
        self, session: AsyncSession, settings: Settings, principal: Principal, data: ApiKeyCreate
    ) -> tuple[ApiKey, str]:
        assert principal.user_id is not None  # the route admits signed-in callers only
        scopes = _granted_scopes(principal, data.scopes)
        expires_at = _expiry(data)
        secret = keyformat.generate_key()
        key = ApiKey(
            user_id=principal.user_id,
            name=data.name,
            prefix=keyformat.display_prefix(secret),
            key_hash=keyformat.key_hash(settings, secret),
            scopes=[str(scope) for scope in scopes],
            expires_at=expires_at,
        )
        await ApiKeyRepository(session).add(key)
        await audit_service.record(
            session,
            action="api_key.create",
            actor=principal,
            resource_type="api_key",
            resource_id=key.id,
            details={"name": key.name, "scopes": key.scopes, "prefix": key.prefix},
        )
        return key, secret

    async def list_own(
        self, session: AsyncSession, principal: Principal, *, after_id: int | None, limit: int
    ) -> Sequence[ApiKey]:
        if principal.user_id is None:
            return []
        return await ApiKeyRepository(session).page(
            after_id=after_id, limit=limit, user_id=principal.user_id
        )

    async def _owned(self, session: AsyncSession, principal: Principal, key_id: int) -> ApiKey:
        """Another user's key is indistinguishable from a missing one."""
        key = (
            await ApiKeyRepository(session).owned(key_id, principal.user_id)
            if principal.user_id is not None
            else None
        )
        if key is None:
            raise ApiKeyNotFound()
        return key

    async def revoke(self, session: AsyncSession, principal: Principal, key_id: int) -> None:
        key = await self._owned(session, principal, key_id)
        if key.revoked_at is None:
            key.revoked_at = utcnow()
        api_key_cache.forget_now_and_after_commit(session, key_id=key.id)
        await audit_service.record(
            session,
            action="api_key.revoke",
            actor=principal,
            resource_type="api_key",
            resource_id=key.id,
        )

    async def rotate(
        self, session: AsyncSession, settings: Settings, principal: Principal, key_id: int
    ) -> tuple[ApiKey, str]:
        """Same key record (name, scopes, expiry), new secret; the old secret stops at once."""
        key = await self._owned(session, principal, key_id)
        if key.revoked_at is not None:
            raise ApiKeyNotFound()
        if principal.api_key_id is not None and not set(key.scopes) <= set(principal.scopes):
            raise BeyondOwnScopes()  # the new secret would give it scopes it lacks
        secret = keyformat.generate_key()
        api_key_cache.forget_now_and_after_commit(session, key_id=key.id)
        key.key_hash = keyformat.key_hash(settings, secret)
        key.prefix = keyformat.display_prefix(secret)
        await session.flush()
        await audit_service.record(
            session,
            action="api_key.rotate",
            actor=principal,
            resource_type="api_key",
            resource_id=key.id,
            details={"prefix": key.prefix},
        )
        return key, secret

    async def authenticate(
        self, database: Database, settings: Settings, secret: str, client_ip: str
    ) -> Principal:
        """The Principal behind an `X-API-Key`, from the key cache or the database.

        Opens its own short unit of work, and only on a cache miss (quantdesk.auth.key_cache).
        """
        key_hash = keyformat.key_hash(settings, secret)
        cached = api_key_cache.get(key_hash, client_ip)
        if cached is not None:  # only verified keys are cached
            return cached
        if not keyformat.well_formed(secret):  # checksum first: no database lookup for junk
            raise Unauthorized("invalid API key")

        async def verify() -> tuple[Principal, float]:
            async with database.session() as session:
                principal, lifetime = await self._verify(session, key_hash, client_ip)
            return principal, min(lifetime, settings.api_key_cache_seconds)

        return await api_key_cache.load(key_hash, client_ip, verify)

    async def _verify(
        self, session: AsyncSession, key_hash: str, client_ip: str
    ) -> tuple[Principal, float]:
        """The Principal and how long it may be cached (seconds)."""
        key = await ApiKeyRepository(session).by_hash(key_hash)
        now = utcnow()
        if key is None or key.revoked_at is not None or (key.expires_at and key.expires_at <= now):
            raise Unauthorized("invalid, revoked or expired API key")
        owner = await UserRepository(session).get(key.user_id)
        if owner is None or not owner.active:
            raise Unauthorized("invalid, revoked or expired API key")
        last_used = key.last_used_at
        if last_used is None or now - last_used > LAST_USED_RESOLUTION:
            await ApiKeyRepository(session).touch(key.id, now)
            last_used = now
        # A key never exceeds its owner's current role, even after a downgrade.
        scopes = frozenset(Scope(s) for s in key.scopes) & ROLE_SCOPES[owner.role]
        principal = Principal(
            user_id=owner.id,
            role=owner.role,
            scopes=scopes,
            client_ip=client_ip,
            api_key_id=key.id,
            email=owner.email,
        )
        # Cached no longer than the key lives, nor past the next due last_used_at refresh.
        until = last_used + LAST_USED_RESOLUTION
        if key.expires_at is not None:
            until = min(until, key.expires_at)
        return principal, max(0.0, (until - now).total_seconds())


api_key_service = ApiKeyService()
