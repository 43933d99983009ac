"""/api/v1/admin/alerts and /admin/monitor: system admins read the alert history (cursor
pages, filters) and the monitor's state; nobody else can."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from quantdesk.access.scopes import Role
from quantdesk.db import Database
from quantdesk.observability.figures import API_ERROR_RATE, QUEUE_LENGTH, Figure
from quantdesk.ops.monitor import PerformanceMonitor
from tests.support.accounts import bearer, create_user, login
from tests.support.problems import assert_problem

PATHS = ["/api/v1/admin/alerts", "/api/v1/admin/monitor"]
START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


async def _headers(client: httpx.AsyncClient, db: Database, role: Role) -> dict[str, str]:
    return bearer(await login(client, await create_user(db, role)))


async def _raise_five_alerts(monitor: PerformanceMonitor) -> None:
    """queue_length: warning, critical, resolved; api_error_rate: critical, resolved."""
    steps = [
        {QUEUE_LENGTH: Figure(150)},
        {QUEUE_LENGTH: Figure(900)},
        {QUEUE_LENGTH: Figure(3), API_ERROR_RATE: Figure(0.5, {"samples": 40})},
        {API_ERROR_RATE: Figure(0.0, {"samples": 40})},
    ]
    for minutes, figures in enumerate(steps):
        await monitor.evaluate(figures, now=START + timedelta(minutes=10 * minutes))


async def test_only_system_admins_read_alerts_and_the_monitor(
    client: httpx.AsyncClient, db: Database
) -> None:
    callers = [await _headers(client, db, role) for role in (Role.USER, Role.ANALYST)]
    for path in PATHS:
        assert_problem(await client.get(path), 401)
        for headers in callers:
            body = assert_problem(await client.get(path, headers=headers), 403)
            assert "system:admin" in str(body["detail"])


async def test_alert_history_is_newest_first_in_cursor_pages(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    await _raise_five_alerts(app.state.monitor)
    admin = await _headers(client, db, Role.ADMIN)

    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(5):
        params: dict[str, str | int] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/api/v1/admin/alerts", params=params, headers=admin)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["meta"]["count"] == len(page["data"])
        seen += page["data"]
        cursor = page["meta"]["next_cursor"]
        if cursor is None:
            break
    assert [(a["metric"], a["level"]) for a in seen] == [
        ("api_error_rate", "resolved"),
        ("queue_length", "resolved"),
        ("api_error_rate", "critical"),  # same tick as the resolved one, raised first
        ("queue_length", "critical"),
        ("queue_length", "warning"),
    ]
    ids = [a["id"] for a in seen]
    assert ids == sorted(ids, reverse=True)
    newest = seen[0]
    assert newest["created_at"] == "2026-01-05T12:30:00Z"
    assert newest["previous_level"] == "critical"
    assert newest["value"] == 0.0
    assert newest["deliveries"] == []  # no channel configured
    assert seen[2]["details"]["samples"] == 40


async def test_alert_history_filters_by_metric_and_level(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    await _raise_five_alerts(app.state.monitor)
    admin = await _headers(client, db, Role.ADMIN)
    response = await client.get(
        "/api/v1/admin/alerts", params={"metric": "queue_length"}, headers=admin
    )
    assert [a["level"] for a in response.json()["data"]] == ["resolved", "critical", "warning"]
    response = await client.get("/api/v1/admin/alerts", params={"level": "critical"}, headers=admin)
    assert [a["metric"] for a in response.json()["data"]] == ["api_error_rate", "queue_length"]
    assert_problem(
        await client.get("/api/v1/admin/alerts", params={"level": "bogus"}, headers=admin), 422
    )
    assert_problem(
        await client.get("/api/v1/admin/alerts", params={"cursor": "garbage"}, headers=admin), 422
    )


async def test_monitor_state_shows_thresholds_and_announced_levels(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    await app.state.monitor.evaluate({QUEUE_LENGTH: Figure(150)}, now=START)
    admin = await _headers(client, db, Role.ADMIN)
    response = await client.get("/api/v1/admin/monitor", headers=admin)
    assert response.status_code == 200, response.text
    state = response.json()["data"]
    # off in tests (unless an in-process `quantdesk serve` exported it): running when enabled
    assert state["enabled"] is app.state.settings.monitor_enabled
    assert state["running"] is state["enabled"]
    assert state["channels"] == []
    metrics = {m["metric"]: m for m in state["metrics"]}
    assert metrics["queue_length"] == {
        "metric": "queue_length",
        "level": "warning",
        "value": 150.0,
        "warning": 100.0,
        "critical": 500.0,
        "last_alert_at": "2026-01-05T12:00:00Z",
    }
    assert metrics["api_error_rate"]["level"] == "ok"
    assert set(metrics) == {
        "api_latency_p95_seconds",
        "api_error_rate",
        "provider_failure_rate",
        "jobs_failed",
        "queue_length",
        "circuit_breakers_open",
    }
