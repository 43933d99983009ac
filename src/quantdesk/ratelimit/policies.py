"""The one rate-limit policy table: role tiers and named per-endpoint policies.

Every request under a limited route pays its role's tier (per API key, else user, else IP);
a route may also name a policy here, which stacks on top with its own key and window. Limits
are `limits` strings ("5 per 5 minutes", "100/minute"); "unlimited" turns a tier off. Settings
can override tier and policy limits, never invent policies: endpoints name them in code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from limits import RateLimitItem, parse

from quantdesk.access.scopes import Role

UNLIMITED = "unlimited"


class KeyKind(StrEnum):
    USER = "user"  # the user account (all its API keys share it); the IP for anonymous callers
    IP = "ip"  # the client IP, after trusted-proxy handling
    PRINCIPAL = "principal"  # the API key, else the user, else the IP
    # The user and the `account_id` path parameter together: one paper account's limit does
    # not throttle the user's other accounts, and nobody spends another user's allowance.
    ACCOUNT = "account"


@dataclass(frozen=True)
class Policy:
    name: str
    limit: str
    key: KeyKind
    exempt_roles: frozenset[Role] = frozenset()
    # True for writes that move money or create credentials: refuse (503) rather than fall
    # back to per-process counting when the shared store is unreachable.
    fail_closed: bool = False
    summary: str = ""
    item: RateLimitItem = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "item", parse_limit(self.limit, what=f"policy {self.name!r}"))

    def applies_to(self, role: Role) -> bool:
        return role not in self.exempt_roles

    def describe(self) -> str:
        who = {
            KeyKind.USER: "per user",
            KeyKind.IP: "per client IP",
            KeyKind.PRINCIPAL: "per API key or user",
            KeyKind.ACCOUNT: "per paper account",
        }[self.key]
        text = f"`{self.name}`: {describe_item(self.item)} {who}"
        if self.exempt_roles:
            exempt = ", ".join(role.value for role in Role if role in self.exempt_roles)
            text += f" (not for {exempt})"
        if self.fail_closed:
            text += "; refused with 503 while the shared limit store is unreachable"
        return text


def parse_limit(value: str, *, what: str = "rate limit") -> RateLimitItem:
    try:
        return parse(value)
    except ValueError as exc:
        raise ValueError(
            f"{what}: {value!r} is not a rate limit (try '100/minute' or '5 per 5 minutes')"
        ) from exc


def parse_tier(value: str | None, *, what: str) -> RateLimitItem | None:
    """A tier limit, or None for unlimited ("unlimited", empty or None)."""
    if value is None or value.strip().lower() in {"", UNLIMITED}:
        return None
    return parse_limit(value, what=what)


def describe_item(item: RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    if item.multiples == 1:
        return f"{item.amount} per {unit}"
    return f"{item.amount} per {item.multiples} {unit}s"


_PAID = frozenset({Role.PREMIUM, Role.ANALYST, Role.ADMIN})

DEFAULT_TIERS: Mapping[Role, str] = {
    Role.GUEST: "60/minute",
    Role.USER: "100/minute",
    Role.PREMIUM: "1000/minute",
    Role.ANALYST: "1000/minute",
    Role.ADMIN: UNLIMITED,
}

POLICIES: Mapping[str, Policy] = {
    policy.name: policy
    for policy in (
        Policy(
            "signals-refresh",
            "5 per 5 minutes",
            KeyKind.USER,
            exempt_roles=frozenset({Role.ADMIN}),
            summary="POST /signals/refresh",
        ),
        Policy(
            "backtests-create",
            "3 per hour",
            KeyKind.USER,
            exempt_roles=_PAID,
            summary="POST /backtests",
        ),
        Policy("signals-historic", "100/minute", KeyKind.IP, summary="GET /signals/historic"),
        Policy(
            "orders-create",
            "60/minute",
            KeyKind.ACCOUNT,
            fail_closed=True,
            summary="POST and PATCH /accounts/{id}/orders",
        ),
        Policy(
            "money-write",
            "30/minute",
            KeyKind.USER,
            fail_closed=True,
            summary="deposits, withdrawals, account resets",
        ),
        Policy(
            "api-keys-create",
            "10 per hour",
            KeyKind.USER,
            fail_closed=True,
            summary="POST /auth/api-keys",
        ),
        # Sign-ins and sign-ups fail closed too: per-process counting would multiply the
        # brute-force and sign-up allowances by the number of replicas.
        Policy("auth-login", "10/minute", KeyKind.IP, fail_closed=True, summary="POST /auth/login"),
        Policy(
            "auth-register",
            "5 per hour",
            KeyKind.IP,
            fail_closed=True,
            summary="POST /auth/register",
        ),
        Policy(
            "sentiment-score",
            "60/minute",
            KeyKind.PRINCIPAL,
            exempt_roles=frozenset({Role.ADMIN}),
            summary="POST /sentiment/score (up to 1,000 texts each)",
        ),
        Policy(
            "sentiment-votes",
            "30 per hour",
            KeyKind.USER,
            summary="POST /sentiment/{symbol}/votes",
        ),
    )
}


def build_tiers(
    overrides: Mapping[Role, str | None] | None = None,
) -> dict[Role, RateLimitItem | None]:
    values: dict[Role, str | None] = {**DEFAULT_TIERS, **(overrides or {})}
    return {role: parse_tier(values[role], what=f"{role.value} tier") for role in Role}


def build_policies(
    overrides: Mapping[str, str] | None = None,
    base: Mapping[str, Policy] = POLICIES,
) -> dict[str, Policy]:
    """The policy table with limits overridden by name; an unknown name is a config error."""
    unknown = sorted(set(overrides or {}) - set(base))
    if unknown:
        raise ValueError(
            f"rate-limit policy overrides name unknown policies {unknown}; known: {sorted(base)}"
        )
    table = dict(base)
    for name, limit in (overrides or {}).items():
        table[name] = replace(base[name], limit=limit)
    return table
