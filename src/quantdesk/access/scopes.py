"""Roles and the scopes they grant (README.md, "Accounts, tokens and API keys").

Roles are five ordered levels; each includes every scope of the levels below it. Anonymous
callers act as `guest`, so public market data stays readable (and is rate-limited per IP).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    GUEST = "guest"
    USER = "user"
    PREMIUM = "premium"
    ANALYST = "analyst"
    ADMIN = "admin"

    @property
    def level(self) -> int:
        return list(Role).index(self)


class Scope(StrEnum):
    READ_TICKERS = "read:tickers"
    READ_FINANCIALS = "read:financials"
    READ_PREMIUM = "read:premium"
    EXECUTE_TRADES = "execute:trades"
    RUN_BACKTEST = "run:backtest"
    ACCESS_AI = "access:ai"
    MANAGE_WEBHOOKS = "manage:webhooks"
    # Listing, creating, rotating and revoking the owner's API keys. A signed-in session may
    # always; an API key only when it was explicitly granted this scope (never by default).
    MANAGE_API_KEYS = "manage:api-keys"
    EXPORT_DATA = "export:data"
    MANAGE_USERS = "manage:users"
    SYSTEM_ADMIN = "system:admin"


# What each level adds to the one below it.
_ADDED_BY_ROLE: dict[Role, frozenset[Scope]] = {
    Role.GUEST: frozenset({Scope.READ_TICKERS}),
    Role.USER: frozenset(
        {
            Scope.READ_FINANCIALS,
            Scope.EXECUTE_TRADES,
            Scope.RUN_BACKTEST,
            Scope.MANAGE_WEBHOOKS,
            Scope.MANAGE_API_KEYS,
        }
    ),
    Role.PREMIUM: frozenset({Scope.READ_PREMIUM, Scope.ACCESS_AI}),
    Role.ANALYST: frozenset({Scope.EXPORT_DATA}),
    Role.ADMIN: frozenset({Scope.MANAGE_USERS, Scope.SYSTEM_ADMIN}),
}


def scopes_for(role: Role) -> frozenset[Scope]:
    granted: set[Scope] = set()
    for level in Role:
        granted |= _ADDED_BY_ROLE[level]
        if level == role:
            break
    return frozenset(granted)


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {role: scopes_for(role) for role in Role}
