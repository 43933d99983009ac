"""Rolling health figures, and how raw HTTP outcomes become provider errors."""

from __future__ import annotations

import errno
import socket
from typing import Any

import httpx
import pytest

from quantdesk.marketdata.providers.base import FxRatesQuery
from quantdesk.marketdata.providers.errors import (
    MalformedResponse,
    NoProviderAnswered,
    PermanentProviderError,
    ProviderDataNotFound,
    ProviderUnreachable,
    RateLimitedError,
    TemporaryProviderError,
)
from quantdesk.marketdata.providers.health import HealthSettings, ProviderHealth
from quantdesk.marketdata.providers.http import HttpClient, offline_reason, parse_retry_after
from quantdesk.marketdata.providers.recorder import MemoryFetchRecorder
from tests.support.provider_fakes import FakeServer, Reply
from tests.support.providers import RecordingSleep, fast_settings


def test_health_figures_over_a_rolling_window() -> None:
    health = ProviderHealth(
        HealthSettings(window=4, min_samples=3, min_success_rate=0.5), clock=lambda: 10.0
    )
    for latency in (100.0, 200.0, 300.0):
        health.record("a", ok=True, latency_ms=latency)
    health.record("a", ok=False, latency_ms=1000.0, error="503 from a")
    figures = health.figures("a")
    assert (figures.samples, figures.success_rate, figures.p50_ms) == (4, 0.75, 250.0)
    assert figures.p95_ms == pytest.approx(895.0)
    assert figures.last_error == "503 from a" and figures.last_error_at == 10.0
    for _ in range(3):  # the window slides: the three successes fall out
        health.record("a", ok=False, latency_ms=50.0, error="timeout")
    assert health.figures("a").success_rate == 0.0 and health.figures("a").degraded
    assert health.figures("never-called").samples == 0


def test_ranking_keeps_configured_order_among_healthy_providers() -> None:
    health = ProviderHealth(HealthSettings(min_samples=2, min_success_rate=0.5))
    for name, ok in (
        ("a", False),
        ("a", False),
        ("b", True),
        ("c", False),
        ("c", True),
        ("c", False),
    ):
        health.record(name, ok=ok, latency_ms=1.0)
    # a: 0% and c: 33% are degraded (c ranks before a); b and the unknown d are healthy.
    assert health.rank(["a", "b", "c", "d"]) == ["b", "d", "c", "a"]


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    assert parse_retry_after("120") == 120.0
    now = 1_445_412_480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(500, b"oops"), TemporaryProviderError),
        (Reply(408, b"slow"), TemporaryProviderError),
        (Reply(429, b"{}", headers={"Retry-After": "4"}), RateLimitedError),
        (Reply(404, b'{"status":"NOT_FOUND"}'), ProviderDataNotFound),
        (Reply(401, b'{"status":"ERROR","error":"Unknown API Key"}'), PermanentProviderError),
        (Reply(200, b"<html>not json</html>", "text/html"), MalformedResponse),
    ],
)
async def test_http_outcomes_become_provider_errors(
    server: FakeServer, reply: Reply, error: type[Exception]
) -> None:
    server.route("/x", reply)
    client = HttpClient(timeout_seconds=1)
    try:
        with pytest.raises(error) as raised:
            await client.get_json(server.url + "/x", params={"api_key": "not-in-messages"})
    finally:
        await client.aclose()
    assert "not-in-messages" not in str(raised.value)
    if isinstance(raised.value, RateLimitedError):
        assert raised.value.retry_after == 4.0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_refused_connection_is_unreachable_not_temporary() -> None:
    client = HttpClient(timeout_seconds=1)
    try:
        with pytest.raises(ProviderUnreachable) as raised:
            await client.get(f"http://127.0.0.1:{_closed_port()}/x")
    finally:
        await client.aclose()
    assert raised.value.message == "unreachable: 127.0.0.1/x: connection refused (offline?)"
    assert not isinstance(raised.value, TemporaryProviderError)  # not retried on the spot


def test_offline_causes_are_told_from_ones_worth_a_retry() -> None:
    def connect_error(cause: BaseException) -> httpx.ConnectError:
        try:
            raise httpx.ConnectError("failed") from cause
        except httpx.ConnectError as error:
            return error

    dns = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    assert offline_reason(connect_error(dns)) == (
        "host name not resolved (Name or service not known)"
    )
    no_route = OSError(errno.ENETUNREACH, "Network is unreachable")
    assert offline_reason(connect_error(no_route)) == "no route (Network is unreachable)"
    assert offline_reason(connect_error(ConnectionResetError(errno.ECONNRESET, "reset"))) is None


async def test_an_unreachable_provider_is_tried_once_and_the_chain_says_offline(
    runtime_factory: Any, sleep: RecordingSleep, recorder: MemoryFetchRecorder
) -> None:
    runtime = runtime_factory(
        fast_settings(
            providers_fx_rates=["ecb"],
            ecb_url=f"http://127.0.0.1:{_closed_port()}/eurofxref-daily.xml",
            providers_retry_attempts=3,
            # A refusal comes back at once; the usual 0.3 s could expire first on a loaded
            # machine (the CI run's two workers) and count as a timeout, which is retried.
            providers_timeout_seconds=10.0,
        )
    )
    with pytest.raises(NoProviderAnswered) as raised:
        await runtime.fetch(FxRatesQuery("EUR"))
    assert raised.value.offline is True
    assert "ecb: unreachable: 127.0.0.1/eurofxref-daily.xml: connection refused" in (
        raised.value.detail
    )
    assert sleep.waits == []  # no backoff: not retried
    (record,) = recorder.records
    assert (record.provider, record.retries, record.healthy) == ("ecb", 0, False)


def _proxy_environment(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


async def test_the_proxy_environment_is_honoured(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("/x", Reply(body=b'{"ok": true}'))
    _proxy_environment(monkeypatch, HTTP_PROXY=server.url)
    client = HttpClient(timeout_seconds=1)
    try:
        # A host that resolves nowhere: only the proxy can answer for it.
        assert await client.get_json("http://quotes.example.invalid/x") == {"ok": True}
    finally:
        await client.aclose()
    (seen,) = server.hits("/x")
    assert seen.headers["Host"] == "quotes.example.invalid"
    assert seen.headers["User-Agent"].startswith("quantdesk/")


async def test_no_proxy_hosts_are_reached_directly(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("/x", Reply(body=b'{"ok": true}'))
    _proxy_environment(
        monkeypatch, HTTP_PROXY=f"http://127.0.0.1:{_closed_port()}", NO_PROXY="127.0.0.1"
    )
    client = HttpClient(timeout_seconds=1)
    try:
        assert await client.get_json(server.url + "/x") == {"ok": True}
    finally:
        await client.aclose()
