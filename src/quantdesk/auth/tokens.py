"""Access tokens (JWT, HS256 pinned) and opaque secrets (refresh tokens, reset tokens).

Signing keys are named by `kid`. The active key signs; every configured key verifies, so a key
can be rotated by adding a new one as active and keeping the old one until its tokens expire.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt

from quantdesk.access.scopes import Scope
from quantdesk.config import Settings
from quantdesk.errors import Unauthorized
from quantdesk.models import utcnow

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("exp", "iat", "nbf", "iss", "aud", "sub", "jti", "scope", "sid")


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    session_id: str
    scopes: frozenset[Scope]
    token_id: str


def derive_secret(settings: Settings, purpose: str) -> bytes:
    return _derive(settings.secret_key.get_secret_value().encode(), purpose)


@functools.lru_cache(maxsize=32)
def _derive(secret: bytes, purpose: str) -> bytes:
    # Cached: the API-key pepper is derived on every API-key request.
    return hmac.digest(secret, purpose.encode(), "sha256")


def signing_keys(settings: Settings) -> tuple[str, dict[str, bytes]]:
    """(active kid, every verifying key). Without configured keys, one is derived from the
    secret key, so a fresh install needs no extra setting."""
    if settings.jwt_keys:
        keys = {kid: value.get_secret_value().encode() for kid, value in settings.jwt_keys.items()}
        active = settings.jwt_active_kid or next(iter(keys))
        return active, keys
    return "k1", {"k1": derive_secret(settings, "jwt-signing-key-v1")}


def issue_access_token(
    settings: Settings, *, user_id: int, session_id: str, scopes: frozenset[Scope]
) -> tuple[str, int]:
    """The encoded JWT and its lifetime in seconds."""
    kid, keys = signing_keys(settings)
    now = utcnow()
    lifetime = settings.access_token_ttl_seconds
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user_id),
        "sid": session_id,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=lifetime),
        "scope": " ".join(sorted(scopes)),
        "typ": "access",
    }
    return jwt.encode(claims, keys[kid], algorithm=ALGORITHM, headers={"kid": kid}), lifetime


def verify_access_token(settings: Settings, token: str) -> AccessClaims:
    """Every failure is the same 401 to the caller; the reason is only logged upstream."""
    _, keys = signing_keys(settings)
    try:
        header = jwt.get_unverified_header(token)
        key = keys.get(str(header.get("kid")))
        if key is None or header.get("alg") != ALGORITHM:
            raise Unauthorized("invalid token")
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": list(REQUIRED_CLAIMS)},
            leeway=5,
        )
        if claims.get("typ") != "access":
            raise Unauthorized("invalid token")
        scopes = frozenset(
            Scope(s) for s in str(claims["scope"]).split() if s in Scope._value2member_map_
        )
        return AccessClaims(int(claims["sub"]), str(claims["sid"]), scopes, str(claims["jti"]))
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise Unauthorized("invalid or expired token") from exc


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def hash_opaque_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
