"""Signing secrets and Standard Webhooks signatures (https://www.standardwebhooks.com).

A secret is `whsec_` + base64 of 32 random bytes, shown once at creation or rotation. It is
stored encrypted (AES-GCM, key derived from `QUANTDESK_SECRET_KEY`), never in a list answer or a
log line. A delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and
`webhook-signature`: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per secret in
force (two during the 24 hours after a rotation), space-separated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
_ENCRYPTED_PREFIX = "v1:"
_CONTEXT = b"quantdesk webhook signing secrets v1"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 signature>` of one message under one secret."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(
    secrets_in_force: Sequence[str], msg_id: str, timestamp: int, body: bytes
) -> str:
    return " ".join(signature(secret, msg_id, timestamp, body) for secret in secrets_in_force)


def headers(
    secrets_in_force: Sequence[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_in_force, msg_id, timestamp, body),
    }


class SecretBox:
    """Encrypts secrets for storage under a key derived from the server's secret key."""

    def __init__(self, server_secret: str) -> None:
        key = hmac.new(server_secret.encode(), _CONTEXT, hashlib.sha256).digest()
        self._aead = AESGCM(key)

    def seal(self, secret: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), _CONTEXT)
        return _ENCRYPTED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, stored: str) -> str:
        if not stored.startswith(_ENCRYPTED_PREFIX):
            raise ValueError("not an encrypted webhook secret")
        raw = base64.urlsafe_b64decode(stored.removeprefix(_ENCRYPTED_PREFIX))
        return self._aead.decrypt(raw[:12], raw[12:], _CONTEXT).decode()
