"""Research errors: 424 when the data a report needs is not stored (never an invented
report), 503 when the configured language model cannot be reached."""

from __future__ import annotations

from quantdesk.errors import AppError, NotFound


class MissingResearchData(AppError):
    status, code, title = 424, "research-data-missing", "Failed Dependency"


class NoFundamentals(NotFound):
    code = "fundamentals-not-found"


class LlmNotConfigured(AppError):
    status, code, title = 503, "llm-not-configured", "Service Unavailable"


class LlmUnavailable(AppError):
    status, code, title = 503, "llm-unavailable", "Service Unavailable"
