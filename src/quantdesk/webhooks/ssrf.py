"""The SSRF guard: webhooks never reach the server's own network.

Checked twice. When a webhook is created or its URL changed (`check_url`): the scheme (https
outside development), no credentials in the URL, and a literal address (in any spelling the
resolver accepts, such as `0x7f000001`) must be public. And **at connect time**, on every
delivery (`GuardedBackend`, the httpcore network backend of the dispatcher's client): the name
is resolved once, every address it resolves to must be public, and the connection goes to one
of those checked addresses, so a DNS answer cannot change between the check and the connect.
TLS still verifies the certificate for the URL's name (SNI) and `Host` is the name: httpcore
takes both from the URL, not from the address connected to. Redirects are never followed.

Refused: loopback, private (RFC 1918, ULA), link-local (169.254/16, where the cloud metadata
services live, fe80::/10), CGNAT (100.64/10), multicast, unspecified, reserved and every other
non-global range, plus IPv6 addresses embedding a refused IPv4 address (IPv4-mapped
`::ffff:a.b.c.d`, 6to4 `2002::/16`, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, Teredo).

`QUANTDESK_WEBHOOKS_ALLOW_HOSTS` (`host:port` pairs, refused in production) lets named hosts
through both checks, for tests and local development.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import anyio
import httpcore
import httpx

from quantdesk.config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_METADATA = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
    ipaddress.ip_address("100.100.100.200"),
}


class BlockedAddress(httpcore.ConnectError):
    """A delivery refused by the guard (recorded as the attempt's error, never retried
    against another address)."""


def blocked_reason(address: IPAddress) -> str | None:
    """Why `address` may not be connected to, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or (address.sixtofour if address.sixtofour else None)
        if embedded is None and any(address in net for net in _NAT64):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is None and address.teredo:
            return "Teredo"
        if embedded is not None:
            inner = blocked_reason(embedded)
            return f"embeds {embedded} ({inner})" if inner else None
    if address in _METADATA:
        return "cloud metadata"
    for reason, hit in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("CGNAT", isinstance(address, ipaddress.IPv4Address) and address in _CGNAT),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("not globally routable", not address.is_global),
    ):
        if hit:
            return reason
    return None


def literal_address(host: str) -> IPAddress | None:
    """`host` as an address when it is one, in any spelling the C resolver accepts
    (`127.1`, `0x7f000001`, `2130706433`, `[::1]`)."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def allowed(settings: Settings, host: str, port: int) -> bool:
    return f"{host.strip('[]').lower()}:{port}" in settings.webhooks_allow_hosts or (
        f"[{host.strip('[]').lower()}]:{port}" in settings.webhooks_allow_hosts
    )


def check_url(url: str, settings: Settings) -> str:
    """The URL as stored, or ValueError saying why a webhook may not point there."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as error:
        raise ValueError(f"not a valid URL: {error}") from None
    if parsed.scheme not in ("http", "https"):
        raise ValueError("must be an http(s) URL")
    if parsed.scheme == "http" and not settings.is_development:
        raise ValueError("must be https (http is only accepted in development)")
    if not parsed.host:
        raise ValueError("has no host")
    if parsed.userinfo:
        raise ValueError("must not contain credentials")
    if parsed.fragment:
        raise ValueError("must not contain a fragment")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if allowed(settings, parsed.host, port):
        return str(parsed)
    if parsed.host.lower() == "localhost" or parsed.host.lower().endswith(".localhost"):
        raise ValueError("points to this machine (localhost)")
    address = literal_address(parsed.host)
    if address is not None:
        reason = blocked_reason(address)
        if reason:
            raise ValueError(f"points to a refused address {address} ({reason})")
    return str(parsed)


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (tests patch this, never /etc/hosts)."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks every address, and connects to a checked one (see the module doc)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await resolve(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except OSError as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from None
        if not addresses:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        if not allowed(self._settings, host, port):
            for text in addresses:
                reason = blocked_reason(ipaddress.ip_address(text.split("%", 1)[0]))
                if reason:
                    raise BlockedAddress(f"refused: {host} resolves to {text} ({reason})")
        last: Exception | None = None
        for text in addresses:
            try:
                return await self._inner.connect_tcp(
                    text, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last = error
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks never connect to unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_client(settings: Settings, *, max_connections: int = 100) -> httpx.AsyncClient:
    """The dispatcher's HTTP client: the guard on every connection, no redirects, no proxy
    from the environment (a proxy would connect on our behalf, past the guard)."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl.create_default_context(),
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=30.0,
        network_backend=GuardedBackend(settings),
    )
    return httpx.AsyncClient(
        transport=transport,
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(settings.webhooks_timeout_seconds),
        headers={"user-agent": "quantdesk-webhooks/1"},
    )
