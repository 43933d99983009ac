"""Outgoing mail behind one small interface: .eml files in a folder (default) or SMTP.

There is deliberately no log-to-console backend: mails carry reset links, and logs redact
tokens wherever they appear, so the file backend is the development inbox.
"""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from quantdesk.config import Settings
from quantdesk.models import utcnow
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.mail")


class MailBackend(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class FileMail:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow().strftime('%Y%m%dT%H%M%S%f')}-{message['To']}.eml"
        path = self.directory / name
        path.write_bytes(bytes(message))
        log.info("mail written", to=message["To"], subject=message["Subject"], path=str(path))


class SmtpMail:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _send(self, message: EmailMessage) -> None:
        s = self.settings
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=10) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username and s.smtp_password:
                smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
            smtp.send_message(message)

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send, message)


def mail_backend(settings: Settings) -> MailBackend:
    if settings.mail_backend == "smtp":
        return SmtpMail(settings)
    return FileMail(settings.mail_dir)


def compose(settings: Settings, *, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message
