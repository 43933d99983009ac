"""Alert channels: where an alert goes besides the log and the `alert_events` table.

* generic webhook (`alert_webhook_url`): the alert POSTed as JSON (`Alert.as_json`);
* Slack-compatible incoming webhook (`alert_slack_webhook_url`): `{"text": ...}`, which
  Slack, Mattermost and Rocket.Chat all accept;
* email (`alert_email_to`): through the configured mail backend (quantdesk.infra.mail).

Delivery never raises: every channel is tried, each within `alert_timeout_seconds`, and a
failure becomes `{"channel": ..., "ok": false, "error": ...}` plus a log line. Webhook URLs
carry their credentials in the path, so neither error texts nor httpx's request log show them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx

from quantdesk.config import Settings
from quantdesk.infra.mail import MailBackend, compose
from quantdesk.kit.timeutil import iso_z
from quantdesk.models import AlertEvent, AlertLevel
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.alerts")
ERROR_MAX_CHARS = 300
_SLACK_ICONS = {
    AlertLevel.WARNING: ":warning:",
    AlertLevel.CRITICAL: ":rotating_light:",
    AlertLevel.RESOLVED: ":white_check_mark:",
}


@dataclass(frozen=True)
class Alert:
    """What the channels are given: the stored alert, detached from its session."""

    id: int
    metric: str
    level: AlertLevel
    previous_level: AlertLevel
    value: float | None
    threshold: float | None
    message: str
    instance: str
    created_at: datetime
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: AlertEvent) -> Alert:
        return cls(
            id=event.id,
            metric=event.metric,
            level=event.level,
            previous_level=event.previous_level,
            value=event.value,
            threshold=event.threshold,
            message=event.message,
            instance=event.instance,
            created_at=event.created_at,
            details=dict(event.details),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "source": "quantdesk",
            "id": self.id,
            "metric": self.metric,
            "level": self.level.value,
            "previous_level": self.previous_level.value,
            "value": self.value,
            "threshold": self.threshold,
            "message": self.message,
            "instance": self.instance,
            "created_at": iso_z(self.created_at),
            "details": self.details,
        }


class AlertChannel(Protocol):
    name: str

    async def send(self, alert: Alert) -> None:
        """Deliver or raise."""


class _MaskUrls(logging.Filter):
    """httpx logs every request's full URL at INFO; a webhook URL is a credential."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: dict[str, str] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if self.urls and isinstance(record.args, tuple):
            record.args = tuple(self.urls.get(str(arg), arg) for arg in record.args)
        return True


_MASK = _MaskUrls()


def _hide_from_http_log(url: str) -> None:
    logger = logging.getLogger("httpx")
    if _MASK not in logger.filters:
        logger.addFilter(_MASK)
    parsed = httpx.URL(url)
    _MASK.urls[str(parsed)] = f"{parsed.scheme}://{parsed.netloc.decode()}/[REDACTED]"


class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str, http: httpx.AsyncClient) -> None:
        self.url = url
        self.http = http
        _hide_from_http_log(url)

    def body(self, alert: Alert) -> dict[str, Any]:
        return alert.as_json()

    async def send(self, alert: Alert) -> None:
        response = await self.http.post(self.url, json=self.body(alert))
        response.raise_for_status()


class SlackChannel(WebhookChannel):
    name = "slack"

    def body(self, alert: Alert) -> dict[str, Any]:
        return {"text": slack_text(alert)}


class EmailChannel:
    name = "email"

    def __init__(self, settings: Settings, mail: MailBackend, to: str) -> None:
        self.settings = settings
        self.mail = mail
        self.to = to

    async def send(self, alert: Alert) -> None:
        subject = f"[quantdesk] {alert.level.value.upper()}: {alert.metric}"
        await self.mail.send(
            compose(self.settings, to=self.to, subject=subject, body=email_text(alert))
        )


def slack_text(alert: Alert) -> str:
    icon = _SLACK_ICONS.get(alert.level, "")
    return f"{icon} *{alert.level.value.upper()}* {alert.message} (quantdesk on {alert.instance})"


def email_text(alert: Alert) -> str:
    lines = [
        alert.message,
        "",
        f"metric:    {alert.metric}",
        f"level:     {alert.level.value} (was {alert.previous_level.value})",
        f"value:     {alert.value if alert.value is not None else 'no data'}",
        f"threshold: {alert.threshold if alert.threshold is not None else '-'}",
        f"instance:  {alert.instance}",
        f"at:        {iso_z(alert.created_at)}",
        f"alert id:  {alert.id}",
    ]
    lines += [f"{key}: {value}" for key, value in sorted(alert.details.items())]
    return "\n".join(lines) + "\n"


def channels_from_settings(
    settings: Settings, *, http: httpx.AsyncClient | None, mail: MailBackend
) -> list[AlertChannel]:
    """The configured channels; `http` is needed (and used) only when a webhook is set."""
    channels: list[AlertChannel] = []
    for url, kind in (
        (settings.alert_webhook_url, WebhookChannel),
        (settings.alert_slack_webhook_url, SlackChannel),
    ):
        if url is not None and url.get_secret_value():  # an empty variable means none
            if http is None:
                raise ValueError("webhook alert channels need an HTTP client")
            channels.append(kind(url.get_secret_value(), http))
    if settings.alert_email_to:
        channels.append(EmailChannel(settings, mail, settings.alert_email_to))
    return channels


def describe_failure(error: BaseException, *, secrets: Sequence[str] = ()) -> str:
    if isinstance(error, httpx.HTTPStatusError):
        text = f"HTTP {error.response.status_code}"
    elif isinstance(error, TimeoutError | httpx.TimeoutException):
        text = "timed out"
    else:
        text = f"{type(error).__name__}: {error}".rstrip(": ")
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return text[: ERROR_MAX_CHARS - 1] + "…" if len(text) > ERROR_MAX_CHARS else text


async def _send(channel: AlertChannel, alert: Alert, seconds: float) -> dict[str, Any]:
    try:
        async with asyncio.timeout(seconds):
            await channel.send(alert)
    except Exception as error:  # a broken channel must not stop the others
        secrets = [getattr(channel, "url", "")]
        reason = describe_failure(error, secrets=secrets)
        log.warning(
            "alert delivery failed",
            channel=channel.name,
            alert_id=alert.id,
            metric=alert.metric,
            error=reason,
        )
        return {"channel": channel.name, "ok": False, "error": reason}
    return {"channel": channel.name, "ok": True}


async def deliver(
    channels: Sequence[AlertChannel], alert: Alert, *, seconds: float
) -> list[dict[str, Any]]:
    """Send `alert` to every channel at once, each within `seconds`; one result per channel,
    in channel order."""
    return list(await asyncio.gather(*(_send(channel, alert, seconds) for channel in channels)))
