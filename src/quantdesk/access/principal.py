"""Who is calling: the result of authentication, handed to every protected endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from quantdesk.access.scopes import ROLE_SCOPES, Role, Scope


@dataclass(frozen=True)
class Principal:
    """An authenticated user (by JWT or API key) or the anonymous guest.

    `scopes` are what this credential may do: the role's scopes for a JWT, the key's own
    (subset) scopes for an API key. `client_ip` is the caller's address after proxy handling.
    """

    user_id: int | None
    role: Role
    scopes: frozenset[Scope]
    client_ip: str
    api_key_id: int | None = None
    email: str | None = None
    session_id: str | None = None  # the login session a JWT belongs to (None for API keys)

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    @cached_property  # read on every request; a cached key-cache Principal serves many
    def rate_limit_key(self) -> str:
        """API key if present, else user, else client IP."""
        if self.api_key_id is not None:
            return f"key:{self.api_key_id}"
        if self.user_id is not None:
            return f"user:{self.user_id}"
        return f"ip:{self.client_ip}"

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes

    @classmethod
    def anonymous(cls, client_ip: str) -> Principal:
        return cls(
            user_id=None, role=Role.GUEST, scopes=ROLE_SCOPES[Role.GUEST], client_ip=client_ip
        )
