"""The secrets an endpoint signs with: its current one and, for 24 hours after a rotation, the
previous one too (receivers accept either while they switch)."""

from __future__ import annotations

from functools import lru_cache

from quantdesk.config import Settings
from quantdesk.models import utcnow
from quantdesk.models.webhooks import WebhookEndpoint
from quantdesk.webhooks.signing import SecretBox

ROTATION_OVERLAP_HOURS = 24


@lru_cache(maxsize=8)
def _box(server_secret: str) -> SecretBox:
    return SecretBox(server_secret)


def secret_box(settings: Settings) -> SecretBox:
    return _box(settings.secret_key.get_secret_value())


def secrets_in_force(endpoint: WebhookEndpoint, settings: Settings) -> list[str]:
    box = secret_box(settings)
    found = [box.open(endpoint.secret)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > utcnow():
        found.append(box.open(endpoint.previous_secret))
    return found
