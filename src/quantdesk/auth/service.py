"""Accounts and sessions: register, login, refresh with reuse detection, logout, passwords."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.access.principal import Principal
from quantdesk.access.scopes import ROLE_SCOPES, Role
from quantdesk.audit.service import audit_service
from quantdesk.auth import passwords, tokens
from quantdesk.auth.repository import (
    RefreshTokenRepository,
    ResetTokenRepository,
    SessionRepository,
    UserRepository,
)
from quantdesk.auth.schemas import TokenPair
from quantdesk.auth.throttle import LoginThrottle
from quantdesk.config import Settings
from quantdesk.errors import Conflict, NotFound, Unauthorized
from quantdesk.infra.mail import MailBackend, compose
from quantdesk.models import AuthSession, PasswordResetToken, RefreshToken, User, utcnow

INVALID_CREDENTIALS = "invalid email or password"


@dataclass(frozen=True)
class ClientInfo:
    ip: str
    user_agent: str | None


class UserNotFound(NotFound):
    code = "user-not-found"

    def __init__(self) -> None:
        super().__init__("no such user")


class AuthService:
    async def register(
        self,
        session: AsyncSession,
        *,
        email: str,
        password: str,
        client: ClientInfo,
        role: Role = Role.USER,
    ) -> User:
        email = email.lower()
        passwords.check_policy(password, email=email)
        users = UserRepository(session)
        if await users.by_email(email) is not None:
            raise Conflict("an account with this email already exists")
        user = User(
            email=email, password_hash=await passwords.hash_password_async(password), role=role
        )
        try:
            async with session.begin_nested():
                await users.add(user)
        except IntegrityError as exc:  # a concurrent registration won the unique index
            raise Conflict("an account with this email already exists") from exc
        await audit_service.record(
            session,
            action="auth.register",
            user_id=user.id,
            ip=client.ip,
            user_agent=client.user_agent,
            resource_type="user",
            resource_id=user.id,
        )
        return user

    async def login(
        self,
        session: AsyncSession,
        settings: Settings,
        throttle: LoginThrottle,
        *,
        email: str,
        password: str,
        client: ClientInfo,
    ) -> TokenPair:
        """Wrong email and wrong password cost the same time and give the same answer."""
        email = email.lower()
        await throttle.check(email, client.ip)
        user = await UserRepository(session).by_email(email)
        valid = await passwords.verify_password_async(
            password, user.password_hash if user else await passwords.dummy_hash_async()
        )
        if user is None or not valid or not user.active:
            await throttle.failed(email, client.ip)
            await audit_service.record(
                session,
                action="auth.login",
                outcome="failure",
                user_id=user.id if user else None,
                ip=client.ip,
                user_agent=client.user_agent,
                details={"email": email, "reason": "inactive" if user and valid else "credentials"},
            )
            raise Unauthorized(INVALID_CREDENTIALS, keep_changes=True)
        await throttle.succeeded(email, client.ip)
        user.last_login_at = utcnow()
        auth_session = AuthSession(
            id=tokens.new_opaque_token()[:32],
            user_id=user.id,
            ip=client.ip,
            user_agent=(client.user_agent or "")[:256] or None,
        )
        await SessionRepository(session).add(auth_session)
        await audit_service.record(
            session,
            action="auth.login",
            user_id=user.id,
            ip=client.ip,
            user_agent=client.user_agent,
            resource_type="session",
            resource_id=auth_session.id,
        )
        return await self._issue(session, settings, user, auth_session.id)

    async def _issue(
        self, session: AsyncSession, settings: Settings, user: User, session_id: str
    ) -> TokenPair:
        refresh = tokens.new_opaque_token()
        await RefreshTokenRepository(session).add(
            RefreshToken(
                session_id=session_id,
                token_hash=tokens.hash_opaque_token(refresh),
                expires_at=utcnow() + timedelta(days=settings.refresh_token_ttl_days),
            )
        )
        access, lifetime = tokens.issue_access_token(
            settings, user_id=user.id, session_id=session_id, scopes=ROLE_SCOPES[user.role]
        )
        return TokenPair(access_token=access, refresh_token=refresh, expires_in=lifetime)

    async def refresh(
        self, session: AsyncSession, settings: Settings, *, refresh_token: str, client: ClientInfo
    ) -> TokenPair:
        """Rotate: the presented token is spent and a successor issued. Presenting a spent
        token means it leaked (or the client raced itself): the whole session is revoked."""
        stored = await RefreshTokenRepository(session).by_hash(
            tokens.hash_opaque_token(refresh_token)
        )
        if stored is None:
            raise Unauthorized("invalid refresh token")
        auth_session = await SessionRepository(session).get(stored.session_id)
        assert auth_session is not None
        user = await UserRepository(session).get(auth_session.user_id)
        claimed = await RefreshTokenRepository(session).mark_used(stored.id)
        if not claimed:
            await SessionRepository(session).revoke(auth_session.id, "refresh_reuse")
            await audit_service.record(
                session,
                action="auth.refresh_reuse",
                outcome="denied",
                user_id=auth_session.user_id,
                ip=client.ip,
                user_agent=client.user_agent,
                resource_type="session",
                resource_id=auth_session.id,
            )
            raise Unauthorized(
                "refresh token already used; the session has been revoked", keep_changes=True
            )
        if (
            auth_session.revoked_at is not None
            or stored.expires_at <= utcnow()
            or user is None
            or not user.active
        ):
            raise Unauthorized("invalid refresh token")
        return await self._issue(session, settings, user, auth_session.id)

    async def logout(self, session: AsyncSession, principal: Principal, client: ClientInfo) -> None:
        if principal.session_id is None:
            return
        session_id = principal.session_id
        await SessionRepository(session).revoke(session_id, "logout")
        await audit_service.record(
            session,
            action="auth.logout",
            actor=principal,
            user_agent=client.user_agent,
            resource_type="session",
            resource_id=session_id,
        )

    async def change_password(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        current: str,
        new: str,
        client: ClientInfo,
    ) -> None:
        user = await self.get_user(session, principal)
        if not await passwords.verify_password_async(current, user.password_hash):
            await audit_service.record(
                session,
                action="auth.password_change",
                outcome="failure",
                actor=principal,
                user_agent=client.user_agent,
            )
            raise Unauthorized("current password is wrong", keep_changes=True)
        passwords.check_policy(new, email=user.email, field="new_password")
        user.password_hash = await passwords.hash_password_async(new)
        user.password_changed_at = utcnow()
        await SessionRepository(session).revoke_all(
            user.id, "password_change", keep=principal.session_id
        )
        await audit_service.record(
            session, action="auth.password_change", actor=principal, user_agent=client.user_agent
        )

    async def request_password_reset(
        self,
        session: AsyncSession,
        settings: Settings,
        mail: MailBackend,
        *,
        email: str,
        client: ClientInfo,
        base_url: str,
    ) -> None:
        """Same answer whether or not the account exists. The mailed link is `base_url`
        (where the API is served, as the caller sees it) + `/reset-password?token=...`."""
        user = await UserRepository(session).by_email(email)
        await audit_service.record(
            session,
            action="auth.password_reset_request",
            user_id=user.id if user else None,
            ip=client.ip,
            user_agent=client.user_agent,
            details={"known_account": user is not None},
        )
        if user is None or not user.active:
            return
        token = tokens.new_opaque_token()
        resets = ResetTokenRepository(session)
        await resets.spend_all(user.id)  # a new link replaces every earlier one
        await resets.add(
            PasswordResetToken(
                user_id=user.id,
                token_hash=tokens.hash_opaque_token(token),
                expires_at=utcnow() + timedelta(minutes=settings.password_reset_ttl_minutes),
            )
        )
        link = f"{base_url.rstrip('/')}/reset-password?token={token}"
        body = (
            "Someone asked to reset the password of your quantdesk account.\n\n"
            f"Reset it within {settings.password_reset_ttl_minutes} minutes: {link}\n\n"
            f"Or POST this token to /api/v1/auth/password-reset/confirm: {token}\n\n"
            "If it was not you, ignore this message."
        )
        await mail.send(
            compose(settings, to=user.email, subject="Reset your quantdesk password", body=body)
        )

    async def confirm_password_reset(
        self, session: AsyncSession, *, token: str, new_password: str, client: ClientInfo
    ) -> None:
        resets = ResetTokenRepository(session)
        stored = await resets.by_hash(tokens.hash_opaque_token(token))
        if stored is None or stored.expires_at <= utcnow() or not await resets.claim(stored.id):
            raise Unauthorized("invalid or expired reset token")
        user = await UserRepository(session).get(stored.user_id)
        if user is None or not user.active:
            raise Unauthorized("invalid or expired reset token")
        await resets.spend_all(user.id)  # and a used one spends every other
        passwords.check_policy(new_password, email=user.email, field="new_password")
        user.password_hash = await passwords.hash_password_async(new_password)
        user.password_changed_at = utcnow()
        await SessionRepository(session).revoke_all(user.id, "password_reset")
        await audit_service.record(
            session,
            action="auth.password_reset",
            user_id=user.id,
            ip=client.ip,
            user_agent=client.user_agent,
        )

    async def get_user(self, session: AsyncSession, principal: Principal) -> User:
        user = await UserRepository(session).get(principal.user_id) if principal.user_id else None
        if user is None:
            raise UserNotFound()
        return user


auth_service = AuthService()
