"""Helpers shared by the HTTP-boundary tests."""

from __future__ import annotations

import httpx
from starlette.types import ASGIApp

PROBLEM = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "request_id"}


def client_for(app: ASGIApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def assert_exact_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    """The app's exact problem+json shape, naming the request id the response carries."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, object] = response.json()
    assert set(body) - {"errors"} == PROBLEM_KEYS
    assert body["status"] == status
    assert body["type"] == f"https://quantdesk.dev/problems/{code}"
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["instance"] == response.request.url.path
    return body
