"""Auth API schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from quantdesk.access.scopes import Role, Scope
from quantdesk.kit.schemas import Instant, RequestModel

# Length is checked by the password policy (a clear 422 naming the rule); this bound only
# stops absurd payloads before any work is done.
Password = Annotated[str, StringConstraints(max_length=1024)]
KeyName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[\w .:@/-]+$")]
KEY_SCOPES = (
    "Defaults to every scope of your role (of the creating key, when a key creates one) "
    "except manage:api-keys, which must be asked for by name; never more than those"
)
KEY_EXPIRY = (
    "Give at most one: expires_at (timezone-aware) or expires_in_days (1-3650); "
    "neither means the key does not expire"
)


class Credentials(RequestModel):
    email: EmailStr
    password: Password


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str | None = Field(
        description="The next refresh token; null when it was set as the httpOnly `qd_refresh` "
        "cookie instead (`?refresh_cookie=true`, docs/dashboard.md)"
    )
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int = Field(description="Access token lifetime in seconds")


class RefreshRequest(RequestModel):
    """The refresh token in the body, or (a browser) `{}` and the `qd_refresh` cookie."""

    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None


class PasswordChange(RequestModel):
    current_password: Password
    new_password: Password


class PasswordResetRequest(RequestModel):
    email: EmailStr


class PasswordResetConfirm(RequestModel):
    token: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    new_password: Password


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    role: Role
    active: bool
    verified: bool
    created_at: datetime
    last_login_at: datetime | None


class MeRead(UserRead):
    scopes: list[Scope]


class UserRoleUpdate(RequestModel):
    role: Role


class ApiKeyCreate(RequestModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt expiry must not mean "never"

    name: KeyName
    scopes: list[Scope] | None = Field(default=None, description=KEY_SCOPES)
    expires_at: Instant | None = Field(default=None, description=KEY_EXPIRY)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650, description=KEY_EXPIRY)


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    user_id: int


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret. Shown once: store it now")
