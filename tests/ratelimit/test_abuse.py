"""Static blocklist, abuse blocks after repeated 429s, and X-Forwarded-For trust."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from quantdesk.http import ratelimit_gate as gate
from quantdesk.kit.clientip import parse_networks
from quantdesk.ratelimit import abuse
from tests.support.ratelimit import client_for, limiter_of, serving, small_config

PROXY = "10.0.0.5"
TRUSTED = parse_networks(["10.0.0.0/8"])


class RecordingLog:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.events.append((event, fields))

    info = warning


@pytest.fixture
def security_log(monkeypatch: pytest.MonkeyPatch) -> RecordingLog:
    recorder = RecordingLog()
    monkeypatch.setattr(abuse, "log", recorder)
    monkeypatch.setattr(gate, "log", recorder)
    return recorder


async def test_static_blocklist_answers_403_before_anything_runs(
    security_log: RecordingLog,
) -> None:
    config = small_config(blocklist=parse_networks(["203.0.113.0/24"]))
    async with serving(config, peer="203.0.113.9") as (_, http):
        for path in ("/api/market", "/health"):
            response = await http.get(path)
            assert response.status_code == 403
            assert response.headers["content-type"] == "application/problem+json"
            body = response.json()
            assert body["type"].endswith("/ip-blocked")
            assert body["request_id"] == response.headers["X-Request-ID"]
            assert "Retry-After" not in response.headers
    event, fields = security_log.events[0]
    assert event == "security.request_blocked"
    assert (fields["ip"], fields["reason"]) == ("203.0.113.9", "blocklist")
    async with serving(config, peer="203.0.114.9") as (_, http):
        assert (await http.get("/health")).status_code == 200


async def test_an_ip_that_keeps_hitting_429_is_blocked_for_a_while(
    security_log: RecordingLog,
) -> None:
    config = small_config(abuse_threshold=3, abuse_window_seconds=60, abuse_block_seconds=1)
    async with serving(config) as (app, http):
        for _ in range(5):
            assert (await http.get("/api/market")).status_code == 200
        for _ in range(3):
            assert (await http.get("/api/market")).status_code == 429
        blocked = await http.get("/api/market")
        assert blocked.status_code == 403
        assert blocked.json()["type"].endswith("/ip-blocked")
        assert int(blocked.headers["Retry-After"]) == 1
        async with client_for(app, peer="192.0.2.50") as other:
            assert (await other.get("/api/market")).status_code == 200  # others unaffected
        await asyncio.sleep(1.1)
        # Unblocked: refused by the (still spent) tier again, not by the block.
        assert (await http.get("/api/market")).status_code == 429
    blocks = [fields for event, fields in security_log.events if event == "security.ip_blocked"]
    assert len(blocks) == 1
    assert blocks[0]["ip"] == "127.0.0.1"
    assert blocks[0]["reason"] == "abuse"
    assert blocks[0]["rate_limited_responses"] == 3


async def test_fewer_429s_than_the_threshold_do_not_block(security_log: RecordingLog) -> None:
    config = small_config(abuse_threshold=3)
    async with serving(config) as (app, http):
        for _ in range(5):
            await http.get("/api/market")
        for _ in range(2):
            assert (await http.get("/api/market")).status_code == 429
        assert await limiter_of(app).abuse.check("127.0.0.1") is None
    assert not [event for event, _ in security_log.events if event == "security.ip_blocked"]


async def test_an_operator_can_lift_an_abuse_block(security_log: RecordingLog) -> None:
    config = small_config(abuse_threshold=1)
    async with serving(config) as (app, http):
        for _ in range(6):
            await http.get("/api/market")
        assert (await http.get("/api/market")).status_code == 403
        assert await limiter_of(app).abuse.unblock("127.0.0.1")
        assert (await http.get("/api/market")).status_code == 429  # the tier, not the block
        assert not await limiter_of(app).abuse.unblock("192.0.2.99")


async def test_forwarded_for_is_ignored_from_untrusted_peers(security_log: RecordingLog) -> None:
    config = small_config(trusted_proxies=TRUSTED, blocklist=parse_networks(["198.51.100.7"]))
    spoofed = {"X-Forwarded-For": "198.51.100.7"}
    async with serving(config, peer="192.0.2.1") as (_, http):
        # The blocklisted address in the header is not believed from a direct client...
        assert (await http.get("/health", headers=spoofed)).status_code == 200
        # ...and rotating the header does not buy a fresh per-IP budget.
        for n in range(3):
            rotating = {"X-Forwarded-For": f"192.0.2.{100 + n}"}
            ok = await http.get("/api/signals/historic", headers=rotating)
            assert ok.status_code == 200
        refused = await http.get("/api/signals/historic", headers={"X-Forwarded-For": "5.6.7.8"})
        assert refused.status_code == 429


async def test_forwarded_for_is_honoured_from_trusted_proxies(security_log: RecordingLog) -> None:
    config = small_config(trusted_proxies=TRUSTED, blocklist=parse_networks(["198.51.100.7"]))
    async with serving(config, peer=PROXY) as (_, http):
        blocked = await http.get("/health", headers={"X-Forwarded-For": "198.51.100.7"})
        assert blocked.status_code == 403
        # Each real client behind the proxy has its own per-IP budget.
        for client in ("192.0.2.10", "192.0.2.11"):
            for _ in range(3):
                ok = await http.get(
                    "/api/signals/historic", headers={"X-Forwarded-For": f"{client}, {PROXY}"}
                )
                assert ok.status_code == 200
        refused = await http.get("/api/signals/historic", headers={"X-Forwarded-For": "192.0.2.10"})
        assert refused.status_code == 429
        # The proxy's own address is not what gets limited.
        assert (await http.get("/api/signals/historic")).status_code == 200
