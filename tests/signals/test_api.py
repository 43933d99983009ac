"""The signals API on both databases: filters, cursor pages, latest, one signal, refresh
(scope and its own rate limit) and the public, delayed historic feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from quantdesk.access.scopes import Role
from quantdesk.db import Database
from quantdesk.models import SignalDirection, SignalStatus
from tests.support.accounts import bearer, create_user, login
from tests.support.factories import create_instrument, load_bars
from tests.support.problems import assert_problem
from tests.support.signals import create_signal, goog_window

NOW = datetime.now(UTC)


@pytest.fixture
async def signals(db: Database) -> dict[str, int]:
    """Six signals across two symbols, sides, statuses, confidences and ages; name -> id."""
    specs = {
        "aaa-long-old": ("AAA", SignalDirection.LONG, SignalStatus.TARGET_HIT, 80.0, 72),
        "aaa-short": ("AAA", SignalDirection.SHORT, SignalStatus.ACTIVE, 40.0, 30),
        "bbb-long": ("BBB", SignalDirection.LONG, SignalStatus.STOPPED, 65.0, 20),
        "bbb-short": ("BBB", SignalDirection.SHORT, SignalStatus.ACTIVE, 90.0, 5),
        "aaa-long-new": ("AAA", SignalDirection.LONG, SignalStatus.ACTIVE, 70.0, 2),
        "bbb-expired": ("BBB", SignalDirection.LONG, SignalStatus.EXPIRED, 55.0, 1),
    }
    ids = {}
    for index, (name, (symbol, direction, status, confidence, hours)) in enumerate(specs.items()):
        signal = await create_signal(
            db,
            symbol,
            direction=direction,
            status=status,
            confidence=confidence,
            created_at=NOW - timedelta(hours=hours),
            source_ts=1_704_067_200 + index * 86_400,
            strategy="macd_cross" if index % 2 else "rsi_reversal",
        )
        ids[name] = signal.id
    return ids


FILTERS = {
    "symbol": ("symbol=aaa", ["aaa-long-new", "aaa-short", "aaa-long-old"]),
    "direction": ("direction=SHORT", ["bbb-short", "aaa-short"]),
    "status": ("status=active", ["aaa-long-new", "bbb-short", "aaa-short"]),
    "min_confidence": ("min_confidence=70", ["aaa-long-new", "bbb-short", "aaa-long-old"]),
    "since": (
        f"since={(NOW - timedelta(hours=10)).replace(tzinfo=None).isoformat()}Z",
        ["bbb-expired", "aaa-long-new", "bbb-short"],
    ),
    "combined": ("symbol=BBB&direction=LONG&status=stopped", ["bbb-long"]),
}


@pytest.mark.parametrize(("query", "expected"), FILTERS.values(), ids=FILTERS.keys())
async def test_list_filters(
    client: httpx.AsyncClient, signals: dict[str, int], query: str, expected: list[str]
) -> None:
    response = await client.get(f"/api/v1/signals?{query}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["id"] for item in body["data"]] == [signals[name] for name in expected]
    assert body["meta"] == {"count": len(expected), "next_cursor": None}


async def test_cursor_pages_walk_newest_first(
    client: httpx.AsyncClient, signals: dict[str, int]
) -> None:
    seen: list[int] = []
    url = "/api/v1/signals?limit=4"
    pages = 0
    while url:
        body = (await client.get(url)).json()
        seen += [item["id"] for item in body["data"]]
        pages += 1
        cursor = body["meta"]["next_cursor"]
        url = f"/api/v1/signals?limit=4&cursor={cursor}" if cursor else ""
    assert pages == 2
    assert seen == sorted(signals.values(), reverse=True)
    assert_problem(await client.get("/api/v1/signals?cursor=bogus!"), 422)
    assert_problem(await client.get("/api/v1/signals?min_confidence=101"), 422)


async def test_one_signal_and_unknown_ids(
    client: httpx.AsyncClient, signals: dict[str, int]
) -> None:
    response = await client.get(f"/api/v1/signals/{signals['bbb-short']}")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["symbol"] == "BBB" and data["direction"] == "SHORT" and data["status"] == "active"
    assert data["source_bar_at"] == "2024-01-04T00:00:00Z"
    assert data["created_at"].endswith("Z") and data["expires_at"].endswith("Z")
    assert data["rationale"][0]["text"] == "RSI(14) crossed above 30"
    body = assert_problem(await client.get("/api/v1/signals/999999"), 404)
    assert str(body["type"]).endswith("signal-not-found")
    assert_problem(await client.get("/api/v1/signals/nope"), 422)


async def test_latest_is_the_newest_per_instrument_and_strategy(
    client: httpx.AsyncClient, signals: dict[str, int]
) -> None:
    body = (await client.get("/api/v1/signals/latest")).json()
    # AAA: rsi_reversal (indexes 0, 4) and macd_cross (1); BBB: macd_cross (3, 5), rsi (2).
    expected = ["bbb-expired", "aaa-long-new", "bbb-long", "aaa-short"]
    assert [item["id"] for item in body["data"]] == [signals[name] for name in expected]
    only_aaa = (await client.get("/api/v1/signals/latest?symbol=AAA&direction=LONG")).json()
    assert [item["id"] for item in only_aaa["data"]] == [signals["aaa-long-new"]]


async def test_historic_is_public_and_delayed(
    client: httpx.AsyncClient, signals: dict[str, int]
) -> None:
    response = await client.get("/api/v1/signals/historic")  # no credentials at all
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["data"]] == [
        signals["aaa-short"],
        signals["aaa-long-old"],
    ]  # created 30 h and 72 h ago; the rest are younger than the 24 h delay
    assert response.headers["ratelimit-limit"]  # the per-IP policy is applied
    filtered = (await client.get("/api/v1/signals/historic?direction=LONG")).json()
    assert [item["id"] for item in filtered["data"]] == [signals["aaa-long-old"]]


async def test_refresh_needs_a_signed_in_user_and_is_rate_limited(
    client: httpx.AsyncClient, db: Database
) -> None:
    await create_instrument(db, "GOOG")
    await load_bars(db, "GOOG", goog_window())
    body = {"symbol": "goog"}
    assert_problem(await client.post("/api/v1/signals/refresh", json=body), 401)

    headers = bearer(await login(client, await create_user(db, Role.USER)))
    first = await client.post("/api/v1/signals/refresh", json=body, headers=headers)
    assert first.status_code == 200, first.text
    refreshed = first.json()
    assert refreshed["meta"]["created"] == refreshed["meta"]["count"] >= 2
    assert refreshed["meta"]["source_bar_at"] == refreshed["data"][0]["source_bar_at"]
    assert {item["symbol"] for item in refreshed["data"]} == {"GOOG"}
    listed = (await client.get("/api/v1/signals?symbol=GOOG")).json()
    assert listed["meta"]["count"] == refreshed["meta"]["count"]

    unknown = await client.post("/api/v1/signals/refresh", json={"symbol": "NOPE"}, headers=headers)
    assert_problem(unknown, 404)
    for _ in range(3):  # five in all within the window
        again = await client.post("/api/v1/signals/refresh", json=body, headers=headers)
        assert again.status_code == 200 and again.json()["meta"]["created"] == 0
    limited = await client.post("/api/v1/signals/refresh", json=body, headers=headers)
    problem = assert_problem(limited, 429)
    assert "signals-refresh" in str(problem["detail"])
    assert int(limited.headers["retry-after"]) > 0
