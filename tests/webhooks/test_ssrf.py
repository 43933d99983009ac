"""The SSRF guard: refused at creation for literal addresses, and at connect time for every
address a name resolves to (in any spelling), with redirects never followed."""

from __future__ import annotations

import ipaddress

import httpx
import pytest
from aiohttp import web

from quantdesk.config import ConfigError, Environment, Settings
from quantdesk.webhooks import ssrf
from quantdesk.webhooks.ssrf import blocked_reason, check_url, guarded_client
from tests.support.settings import make_settings
from tests.support.webhooks import Receiver

REFUSED = [
    "127.0.0.1",
    "::1",
    "169.254.169.254",
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.1",
    "100.64.0.1",
    "224.0.0.1",
    "0.0.0.0",
    "::ffff:127.0.0.1",
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "64:ff9b::a00:5",  # NAT64 of 10.0.0.5
    "fe80::1",
    "fd00:ec2::254",
]


@pytest.mark.parametrize("address", REFUSED)
def test_refused_ranges(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


def _dev() -> Settings:
    return make_settings("sqlite+aiosqlite:///:memory:")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data",
        "http://0x7f000001/",
        "http://[::ffff:127.0.0.1]/",
        "http://2130706433/",
    ],
)
def test_literal_addresses_are_refused_at_creation(url: str) -> None:
    with pytest.raises(ValueError, match="refused address"):
        check_url(url, _dev())


def test_https_is_required_outside_development() -> None:
    staging = make_settings("sqlite+aiosqlite:///:memory:", environment=Environment.STAGING)
    with pytest.raises(ValueError, match="https"):
        check_url("http://example.com/hook", staging)
    assert check_url("https://example.com/hook", staging) == "https://example.com/hook"


def test_allow_hosts_is_refused_in_production() -> None:
    settings = make_settings(
        "postgresql+asyncpg://u:p@db/q",
        environment=Environment.PRODUCTION,
        secret_key="x" * 40,
        webhooks_allow_hosts="127.0.0.1:8080",
    )
    assert any("QUANTDESK_WEBHOOKS_ALLOW_HOSTS" in p for p in settings.problems())
    with pytest.raises(ConfigError, match="WEBHOOKS_ALLOW_HOSTS"):
        settings.check()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/",
        "http://[::1]:{port}/",
        "http://169.254.169.254/",
        "http://0x7f000001:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
    ],
)
async def test_connect_time_refuses_loopback_spellings(url: str, receiver: Receiver) -> None:
    async with guarded_client(_dev()) as client:
        with pytest.raises(httpx.ConnectError, match="refused"):
            await client.post(url.format(port=receiver.port), content=b"{}")
    assert receiver.requests == []


async def test_a_name_resolving_to_a_private_address_is_refused(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.0.0.5"] if host == "hooks.example.com" else ["127.0.0.1"]

    monkeypatch.setattr(ssrf, "resolve", resolve)
    assert check_url("http://hooks.example.com/x", _dev())  # a name passes creation ...
    async with guarded_client(_dev()) as client:
        with pytest.raises(httpx.ConnectError, match=r"10\.0\.0\.5 \(private\)"):
            await client.post("http://hooks.example.com/x", content=b"{}")


async def test_the_allow_list_reaches_its_host_and_the_connection_goes_to_the_checked_address(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    seen: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        seen.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(ssrf, "resolve", resolve)
    settings = make_settings(
        "sqlite+aiosqlite:///:memory:", webhooks_allow_hosts=f"receiver.test:{receiver.port}"
    )
    async with guarded_client(settings) as client:
        response = await client.post(f"http://receiver.test:{receiver.port}/x", content=b"{}")
    assert response.status_code == 200
    assert seen == ["receiver.test"]
    assert receiver.requests[0].headers["Host"] == f"receiver.test:{receiver.port}"


async def test_redirects_are_not_followed(receiver: Receiver) -> None:
    target = Receiver()
    await target.start()
    try:

        async def redirect(request: web.Request) -> web.StreamResponse:
            return web.Response(
                status=302, headers={"Location": f"http://127.0.0.1:{target.port}/"}
            )

        receiver.respond = redirect
        settings = make_settings(
            "sqlite+aiosqlite:///:memory:", webhooks_allow_hosts=f"127.0.0.1:{receiver.port}"
        )
        async with guarded_client(settings) as client:
            response = await client.post(receiver.url, content=b"{}")
        assert response.status_code == 302
        assert target.requests == []
    finally:
        await target.stop()
