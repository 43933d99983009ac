"""Logs: JSON in production with the request id on every request line; secrets redacted."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from asgi_lifespan import LifespanManager

from quantdesk.app import create_app
from quantdesk.observability.logging import REDACTED, redact, redact_text
from tests.support.settings import make_settings

PRODUCTION = {
    "environment": "production",
    "secret_key": "s" * 40,
    "cors_origins": ["https://desk.example"],
    "allowed_hosts": ["t"],
}


@pytest.mark.parametrize(
    ("value", "secret"),
    [
        ({"headers": {"Authorization": "Bearer eyJhbGciOi.abc.def"}}, "eyJhbGciOi"),
        ({"password": "correct horse battery"}, "correct horse"),
        ({"nested": [{"api_key": "k-123456"}]}, "k-123456"),
        ({"headers": [(b"x-api-key", b"qd_live_abcdef")]}, "abcdef"),
        ({"url": "postgresql+asyncpg://quant:pa55word@db/quantdesk"}, "pa55word"),
        ({"message": "login with password=hunter2 failed"}, "hunter2"),
        ({"message": "sent token: abc.def.ghi"}, "abc.def.ghi"),
        ({"message": "header Authorization: Basic dXNlcjpwYXNz"}, "dXNlcjpwYXNz"),
        ({"key": "qd_live_0123456789abcdef"}, "0123456789abcdef"),
    ],
)
def test_secrets_are_redacted(value: object, secret: str) -> None:
    cleaned = json.dumps(redact(value), default=str)
    assert secret not in cleaned
    assert REDACTED in cleaned


def test_ordinary_text_is_untouched() -> None:
    text = "GET /api/v1/bars/GOOG?timeframe=1d 200"
    assert redact_text(text) == text
    assert redact({"symbol": "GOOG", "count": 3}) == {"symbol": "GOOG", "count": 3}


async def test_production_logs_are_json_with_request_id_and_redacted(
    postgres_migrated_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(make_settings(postgres_migrated_url, **PRODUCTION))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.get(
                "/health/live",
                headers={"X-Request-ID": "req-42", "Authorization": "Bearer top-secret-token"},
            )
            logging.getLogger("quantdesk.test").warning(
                "calling provider", extra={"api_key": "k-999", "url": "https://u:pw@h/x"}
            )
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    access = [
        line
        for line in lines
        if line.get("event") == "request" and line.get("path") == "/health/live"
    ]
    assert access and access[0]["request_id"] == "req-42" and access[0]["status"] == 200
    provider = next(line for line in lines if line.get("event") == "calling provider")
    assert provider["api_key"] == REDACTED and ":pw@" not in provider["url"]
    assert "top-secret-token" not in json.dumps(lines)
