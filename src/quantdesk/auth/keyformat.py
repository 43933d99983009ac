"""API key format: `qd_live_<32 random base62><6-char base62 CRC32 checksum>`.

The checksum lets us reject a mistyped or forged key without touching the database (and lets
secret scanners recognise leaked keys). Only HMAC-SHA256(pepper, key) is stored.
"""

from __future__ import annotations

import hmac
import re
import secrets
import zlib

from quantdesk.auth.tokens import derive_secret
from quantdesk.config import Settings

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KEY_PREFIX = "qd_live_"
RANDOM_LENGTH = 32
CHECKSUM_LENGTH = 6
DISPLAY_PREFIX_LENGTH = len(KEY_PREFIX) + 6
_KEY_RE = re.compile(rf"^{KEY_PREFIX}[0-9A-Za-z]{{{RANDOM_LENGTH + CHECKSUM_LENGTH}}}$")


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(ALPHABET[remainder])
    return "".join(reversed(digits))


def checksum(random_part: str) -> str:
    return _base62(zlib.crc32(random_part.encode()), CHECKSUM_LENGTH)


def generate_key() -> str:
    random_part = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return KEY_PREFIX + random_part + checksum(random_part)


def well_formed(key: str) -> bool:
    """Shape and checksum only: no database involved."""
    if not _KEY_RE.match(key):
        return False
    body = key[len(KEY_PREFIX) :]
    return hmac.compare_digest(checksum(body[:RANDOM_LENGTH]), body[RANDOM_LENGTH:])


def display_prefix(key: str) -> str:
    return key[:DISPLAY_PREFIX_LENGTH]


def key_hash(settings: Settings, key: str) -> str:
    pepper = (
        settings.api_key_pepper.get_secret_value().encode()
        if settings.api_key_pepper
        else derive_secret(settings, "api-key-pepper-v1")
    )
    return hmac.digest(pepper, key.encode(), "sha256").hex()  # the one-shot C path
