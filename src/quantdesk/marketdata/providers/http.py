"""HTTP for the REST providers: one aiohttp session, answers sorted into provider errors.

The session lives as long as the provider runtime (created on first use, in the running event
loop; `aclose` closes it) and keeps its connections alive. aiohttp rather than httpx: on a
quote miss the client is on every request's path, and an httpx request costs 5-10x the CPU of
an aiohttp one (docs/benchmarks.md, cache section). The session behaves as the httpx client
did: a `quantdesk` User-Agent, redirects followed, the proxy environment (`HTTP(S)_PROXY`,
`ALL_PROXY`, `NO_PROXY`) read once when the session starts, the certifi CA bundle, every phase
of a request (pool wait, connect, each read) bounded by the timeout, the body decoded as the
Content-Type's charset or UTF-8.

Messages name the host and path only: query strings carry API keys (FRED takes its key as a
parameter), and error messages end up in logs, fetch records and API responses.
"""

from __future__ import annotations

import asyncio
import email.utils
import errno
import socket
import ssl
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import certifi
import orjson
from multidict import CIMultiDictProxy
from yarl import URL

from quantdesk.marketdata.providers.errors import (
    MalformedResponse,
    PermanentProviderError,
    ProviderDataNotFound,
    ProviderTimeout,
    ProviderUnreachable,
    RateLimitedError,
    TemporaryProviderError,
)

USER_AGENT = "quantdesk/0.1 (+https://quantdesk.dev)"


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def where(url: URL) -> str:
    return f"{url.host}{url.path}"


@dataclass(frozen=True)
class HttpResponse:
    """An answer read in full: status, final URL (after redirects), headers and body."""

    status_code: int
    url: URL
    headers: CIMultiDictProxy[str]
    content: bytes
    charset: str | None = None

    @property
    def text(self) -> str:
        try:
            return self.content.decode(self.charset or "utf-8", errors="replace")
        except LookupError:  # an unknown charset name
            return self.content.decode("utf-8", errors="replace")


def raise_for_status(response: HttpResponse, *, not_found: tuple[int, ...] = (404,)) -> None:
    status = response.status_code
    if status < 400:
        return
    place = where(response.url)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        raise RateLimitedError(f"429 from {place}", retry_after=retry_after)
    if status >= 500 or status == 408:
        raise TemporaryProviderError(f"{status} from {place}")
    if status in not_found:
        raise ProviderDataNotFound(f"{status} from {place}: {_snippet(response)}")
    raise PermanentProviderError(f"{status} from {place}: {_snippet(response)}")


def _snippet(response: HttpResponse) -> str:
    return " ".join(response.text[:200].split())


class HttpClient:
    """A thin wrapper that turns transport failures and statuses into provider errors."""

    def __init__(self, *, timeout_seconds: float) -> None:
        self._timeout = aiohttp.ClientTimeout(
            total=None,
            connect=timeout_seconds,
            sock_connect=timeout_seconds,
            sock_read=timeout_seconds,
        )
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proxies: dict[str, str] = {}

    def _current(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop or self._session.closed:
            # trust_env stays off: aiohttp would then read the proxy environment and ~/.netrc
            # on a worker thread at every request; the proxies are read here, once.
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                headers={"User-Agent": USER_AGENT},
                connector=aiohttp.TCPConnector(ssl=_ssl_context()),
            )
            self._loop = loop
            self._proxies = urllib.request.getproxies_environment()
        return self._session

    def _proxy(self, url: str) -> str | None:
        """The proxy the environment names for `url`, if any (`NO_PROXY` honoured)."""
        if not self._proxies:
            return None
        parsed = URL(url)
        bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
        if parsed.host and bypass(parsed.host, self._proxies):
            return None
        return self._proxies.get(parsed.scheme) or self._proxies.get("all")

    async def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        not_found: tuple[int, ...] = (404,),
    ) -> HttpResponse:
        session = self._current()
        try:
            proxy = self._proxy(url)
            async with session.get(url, params=params, headers=headers, proxy=proxy) as answer:
                content = await answer.read()
                response = HttpResponse(
                    answer.status, answer.url, answer.headers, content, answer.charset
                )
        except TimeoutError:
            raise ProviderTimeout(f"timed out: {_target(url)}") from None
        except aiohttp.ClientConnectorError as exc:
            offline = offline_reason(exc)
            if offline is None and isinstance(exc, aiohttp.ClientConnectorDNSError):
                offline = f"host name not resolved ({exc.os_error})"
            if offline is not None:
                raise ProviderUnreachable(
                    f"unreachable: {_target(url)}: {offline} (offline?)"
                ) from None
            raise TemporaryProviderError(f"{type(exc).__name__} on {_target(url)}") from None
        except aiohttp.ClientError as exc:
            raise TemporaryProviderError(f"{type(exc).__name__} on {_target(url)}") from None
        raise_for_status(response, not_found=not_found)
        return response

    async def get_json(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        not_found: tuple[int, ...] = (404,),
    ) -> Any:
        response = await self.get(url, params=params, headers=headers, not_found=not_found)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise MalformedResponse(
                f"{where(response.url)} did not return JSON: {_snippet(response)[:80]}"
            ) from None

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


_SSL: ssl.SSLContext | None = None


def _ssl_context() -> ssl.SSLContext:
    """certifi's CA bundle, as httpx used (built once: loading it takes milliseconds)."""
    global _SSL
    if _SSL is None:
        _SSL = ssl.create_default_context(cafile=certifi.where())
    return _SSL


def _target(url: str) -> str:
    try:
        return where(URL(url))
    except (TypeError, ValueError):
        return "provider"


_NO_ROUTE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN}


def offline_reason(exc: BaseException) -> str | None:
    """Why no connection could be made, when the cause says the peer cannot be reached at all
    (refused, name not resolved, no route); None for anything worth retrying (a reset, a
    connection that timed out)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return f"host name not resolved ({cause.strerror or cause})"
        if isinstance(cause, OSError) and cause.errno in _NO_ROUTE:
            return f"no route ({cause.strerror or cause})"
        cause = cause.__cause__ or cause.__context__
    return None
