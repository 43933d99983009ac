"""Signed, expiring download links: `?token=<expires>.<signature>`.

The signature is HMAC-SHA256 over (export id, owner's user id, expiry) with a key derived from
`QUANTDESK_SECRET_KEY`, so a link opens one export of one user until it expires and cannot be
moved to another export or stretched. Checking is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from enum import StrEnum

from quantdesk.config import Settings

_PURPOSE = b"quantdesk.exports.download.v1"


class LinkCheck(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


def _key(settings: Settings) -> bytes:
    return hmac.new(settings.secret_key.get_secret_value().encode(), _PURPOSE, "sha256").digest()


def _signature(settings: Settings, export_id: str, user_id: int, expires: int) -> str:
    message = f"{export_id}\n{user_id}\n{expires}".encode()
    digest = hmac.new(_key(settings), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(settings: Settings, export_id: str, user_id: int, expires: int) -> str:
    """The token for `export_id` of `user_id`, valid until `expires` (Unix seconds)."""
    return f"{expires}.{_signature(settings, export_id, user_id, expires)}"


def check(settings: Settings, token: str, export_id: str, user_id: int, now: float) -> LinkCheck:
    """Whether `token` opens `export_id` of `user_id` at `now`: a forged or foreign token is
    INVALID (whether or not it has expired); a genuine one past its expiry is EXPIRED."""
    expires_text, _, signature = token.partition(".")
    if not expires_text.isdigit() or len(expires_text) > 12 or not signature:
        return LinkCheck.INVALID
    expires = int(expires_text)
    expected = _signature(settings, export_id, user_id, expires)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return LinkCheck.INVALID
    return LinkCheck.EXPIRED if now >= expires else LinkCheck.VALID
