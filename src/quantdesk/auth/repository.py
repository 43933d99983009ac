"""SQL for users, sessions, refresh tokens, reset tokens and API keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update

from quantdesk.kit.repository import Repository
from quantdesk.models import ApiKey, AuthSession, PasswordResetToken, RefreshToken, User, utcnow


class UserRepository(Repository[User]):
    model = User

    async def by_email(self, email: str) -> User | None:
        result = await self.session.execute(select(User).where(User.email == email.lower()))
        return result.scalar_one_or_none()

    async def page(self, *, after_id: int | None, limit: int) -> Sequence[User]:
        statement = select(User).order_by(User.id).limit(limit)
        if after_id is not None:
            statement = statement.where(User.id > after_id)
        return (await self.session.execute(statement)).scalars().all()


class SessionRepository(Repository[AuthSession]):
    model = AuthSession

    async def revoke(self, session_id: str, reason: str) -> None:
        await self.session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason=reason)
        )

    async def revoke_all(self, user_id: int, reason: str, *, keep: str | None = None) -> None:
        statement = (
            update(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason=reason)
        )
        if keep is not None:
            statement = statement.where(AuthSession.id != keep)
        await self.session.execute(statement)

    async def is_active(self, session_id: str, user_id: int) -> bool:
        result = await self.session.execute(
            select(AuthSession.id).where(
                AuthSession.id == session_id,
                AuthSession.user_id == user_id,
                AuthSession.revoked_at.is_(None),
            )
        )
        return result.scalar() is not None


class RefreshTokenRepository(Repository[RefreshToken]):
    model = RefreshToken

    async def by_hash(self, token_hash: str) -> RefreshToken | None:
        result = await self.session.execute(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        )
        return result.scalar_one_or_none()

    async def mark_used(self, token_id: int) -> bool:
        """Atomically claim the token: False when someone used it first (a race is reuse)."""
        result = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
            .values(used_at=utcnow())
        )
        return bool(getattr(result, "rowcount", 0) == 1)


class ResetTokenRepository(Repository[PasswordResetToken]):
    model = PasswordResetToken

    async def by_hash(self, token_hash: str) -> PasswordResetToken | None:
        result = await self.session.execute(
            select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash)
        )
        return result.scalar_one_or_none()

    async def claim(self, token_id: int) -> bool:
        result = await self.session.execute(
            update(PasswordResetToken)
            .where(PasswordResetToken.id == token_id, PasswordResetToken.used_at.is_(None))
            .values(used_at=utcnow())
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def spend_all(self, user_id: int) -> None:
        """Spend every outstanding token of the user: only the newest one issued may work,
        and none after one was used."""
        await self.session.execute(
            update(PasswordResetToken)
            .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
            .values(used_at=utcnow())
        )


class ApiKeyRepository(Repository[ApiKey]):
    model = ApiKey

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        result = await self.session.execute(select(ApiKey).where(ApiKey.key_hash == key_hash))
        return result.scalar_one_or_none()

    async def owned(self, key_id: int, user_id: int) -> ApiKey | None:
        result = await self.session.execute(
            select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user_id)
        )
        return result.scalar_one_or_none()

    async def page(
        self, *, after_id: int | None, limit: int, user_id: int | None = None
    ) -> Sequence[ApiKey]:
        """Every key by id, or one user's keys."""
        statement = select(ApiKey).order_by(ApiKey.id).limit(limit)
        if after_id is not None:
            statement = statement.where(ApiKey.id > after_id)
        if user_id is not None:
            statement = statement.where(ApiKey.user_id == user_id)
        return (await self.session.execute(statement)).scalars().all()

    async def touch(self, key_id: int, when: datetime) -> None:
        await self.session.execute(
            update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=when)
        )
