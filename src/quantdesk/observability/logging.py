"""Structured logs: JSON in staging/production, readable in development, secrets redacted.

Every log line written while a request is served carries its `request_id` (bound by the request
context middleware through structlog's contextvars). Stdlib loggers (uvicorn, sqlalchemy,
alembic) are routed through the same processors, so redaction applies to them too.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from contextvars import ContextVar
from typing import Any

import structlog

from quantdesk.config import Settings

REDACTED = "[REDACTED]"
# Keys whose values are secrets wherever they appear (headers, settings, payloads).
_SECRET_KEY_RE = re.compile(
    r"(authorization|password|passwd|pwd|secret|token|api[-_]?key|apikey|cookie|"
    r"private[-_]?key|credential|signature|pepper)",
    re.IGNORECASE,
)
# Secrets embedded in free text: bearer tokens, key=value pairs, URL passwords, our API keys.
_SECRET_TEXT_PATTERNS = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    (
        re.compile(
            r"(?i)\b(password|passwd|pwd|secret|token|api[-_]?key|apikey|access_token|refresh_token)"
            r"(\"?\s*[:=]\s*\"?)([^\s\"'&,;]+)"
        ),
        r"\1\2" + REDACTED,
    ),
    (
        re.compile(r"([a-z][a-z0-9+.-]*://[^:/\s@]*:)([^@\s/]+)(@)", re.IGNORECASE),
        r"\1" + REDACTED + r"\3",
    ),
    (re.compile(r"\bqd_(live|test)_[A-Za-z0-9]+"), "qd_\\1_" + REDACTED),
)


def redact_text(text: str) -> str:
    for pattern, replacement in _SECRET_TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any, key: str | None = None, _depth: int = 0) -> Any:
    """A copy of `value` with secret-looking keys masked and secrets in strings replaced."""
    if key is not None and _SECRET_KEY_RE.search(key) and value not in (None, ""):
        return REDACTED
    if _depth > 8:
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact(v, str(k), _depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        # Header lists arrive as [(name, value), ...] pairs.
        if all(isinstance(item, tuple) and len(item) == 2 for item in value):
            return [(k, redact(v, _as_text(k), _depth + 1)) for k, v in value]
        return [redact(item, None, _depth + 1) for item in value]
    return value


def _as_text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _drop_color_message(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    # uvicorn attaches an ANSI-coloured copy of its message as an extra; it is noise in logs.
    event_dict.pop("color_message", None)
    return event_dict


def _redact_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key in {"timestamp", "level", "logger", "request_id"}:
            continue
        event_dict[key] = redact(event_dict[key], key)
    return event_dict


# The request being served, set by the edge (quantdesk.http.edge). One ContextVar set and reset per
# request is far cheaper than structlog's bind/clear_contextvars, which copy and scan the
# whole context twice per request.
request_id_var: ContextVar[str | None] = ContextVar("quantdesk_request_id", default=None)


def _add_request_id(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    request_id = request_id_var.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def _shared_processors() -> list[Any]:
    return [
        _add_request_id,
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]


class QuantdeskLogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler configure_logging installs (a distinct type so it can be found again)."""


def configure_logging(settings: Settings) -> None:
    json_output = not settings.is_development
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_output
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(),
            # rich tracebacks print local variables, which may hold secrets.
            exception_formatter=structlog.dev.plain_traceback,
        )
    )
    shared = _shared_processors()
    structlog.configure(
        processors=[
            # Drop below-level lines before any work is done on them.
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.processors.format_exc_info
            if json_output
            else structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _drop_color_message,
            _redact_processor,
            renderer,
        ],
    )
    handler = QuantdeskLogHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    # Replace our own handler (create_app may run more than once); leave anyone else's.
    root.handlers[:] = [h for h in root.handlers if not isinstance(h, QuantdeskLogHandler)]
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # Our own access log line carries the request id; uvicorn's would duplicate it without.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True


def get_logger(name: str) -> Any:
    return structlog.stdlib.get_logger(name)
