"""The problem+json shape every error answer has."""

from __future__ import annotations

import httpx

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, object] = response.json()
    assert body["status"] == status
    for key in ("type", "title", "detail", "instance", "request_id"):
        assert key in body
    assert body["request_id"] == response.headers["x-request-id"]
    return body
