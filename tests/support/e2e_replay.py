"""A market replay on the live server for the dashboard's live tests: started over the public API
as the admin (POST /api/v1/admin/replay, docs/events.md "Market replay"), stopped on the way out
so the next test of the session finds no replay running (one per process)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.support.live_server import Credentials, LiveServer


@contextmanager
def api_client(server: LiveServer, who: Credentials) -> Iterator[httpx.Client]:
    """An httpx client on the server's API, signed in as `who` (bearer token)."""
    with httpx.Client(base_url=server.url("/api/v1"), timeout=30) as client:
        credentials = {"email": who.email, "password": who.password}
        answer = client.post("/auth/login", json=credentials)
        assert answer.status_code == 200, f"sign-in as {who.email}: {answer.text}"
        client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        yield client


@contextmanager
def running_replay(
    server: LiveServer, symbol: str, timeframe: str, start: str, speed: float = 5
) -> Iterator[dict[str, Any]]:
    """Replay `symbol`'s stored bars from `start` at `speed` bars per second; yields its status."""
    with api_client(server, server.admin) as admin:
        admin.delete("/admin/replay")  # a replay left by an earlier test (409 otherwise)
        answer = admin.post(
            "/admin/replay",
            json={"symbol": symbol, "timeframe": timeframe, "start": start, "speed": speed},
        )
        answer.raise_for_status()
        try:
            yield answer.json()
        finally:
            admin.delete("/admin/replay")
