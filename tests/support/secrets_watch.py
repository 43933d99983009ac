"""Every secret a test creates (passwords, tokens, API keys) is registered here; at the end of
the run, all log output formatted by quantdesk's own handler is searched for them."""

from __future__ import annotations

import logging

from quantdesk.observability.logging import QuantdeskLogHandler

SECRETS: set[str] = set()


def remember(*values: str) -> None:
    SECRETS.update(value for value in values if value and len(value) >= 8)


class LogCollector(logging.Handler):
    """Formats each record exactly as quantdesk's handler would (redaction included)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        ours = next(
            (h for h in logging.getLogger().handlers if isinstance(h, QuantdeskLogHandler)), None
        )
        if ours is None or ours.formatter is None:
            return
        try:
            self.lines.append(ours.formatter.format(record))
        except Exception:  # a formatting failure must not break the test being logged
            self.lines.append(record.getMessage())

    def leaks(self) -> list[str]:
        text = "\n".join(self.lines)
        return sorted(secret for secret in SECRETS if secret in text)


# One collector for the whole run: conftest attaches it to the root logger.
LOG_COLLECTOR = LogCollector()
