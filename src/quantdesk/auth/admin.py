"""Administration of users and keys (manage:users)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.access.principal import Principal
from quantdesk.access.scopes import Role
from quantdesk.audit.service import audit_service
from quantdesk.auth.key_cache import api_key_cache
from quantdesk.auth.repository import ApiKeyRepository, SessionRepository, UserRepository
from quantdesk.auth.service import UserNotFound
from quantdesk.errors import Conflict
from quantdesk.models import ApiKey, User


class AdminService:
    async def users(
        self, session: AsyncSession, *, after_id: int | None, limit: int
    ) -> Sequence[User]:
        return await UserRepository(session).page(after_id=after_id, limit=limit)

    async def api_keys(
        self, session: AsyncSession, *, after_id: int | None, limit: int
    ) -> Sequence[ApiKey]:
        return await ApiKeyRepository(session).page(after_id=after_id, limit=limit)

    async def _user(self, session: AsyncSession, user_id: int) -> User:
        user = await UserRepository(session).get(user_id)
        if user is None:
            raise UserNotFound()
        return user

    async def change_role(
        self, session: AsyncSession, admin: Principal, user_id: int, role: Role
    ) -> User:
        user = await self._user(session, user_id)
        if user.id == admin.user_id and role is not Role.ADMIN:
            raise Conflict("admins cannot demote themselves; ask another admin")
        previous = user.role
        user.role = role
        api_key_cache.forget_now_and_after_commit(session, user_id=user.id)
        await audit_service.record(
            session,
            action="user.role_change",
            actor=admin,
            resource_type="user",
            resource_id=user.id,
            details={"from": previous.value, "to": role.value},
        )
        return user

    async def deactivate(self, session: AsyncSession, admin: Principal, user_id: int) -> User:
        user = await self._user(session, user_id)
        if user.id == admin.user_id:
            raise Conflict("admins cannot deactivate themselves")
        user.active = False
        api_key_cache.forget_now_and_after_commit(session, user_id=user.id)
        await SessionRepository(session).revoke_all(user.id, "deactivated")
        await audit_service.record(
            session,
            action="user.deactivate",
            actor=admin,
            resource_type="user",
            resource_id=user.id,
        )
        return user


admin_service = AdminService()
