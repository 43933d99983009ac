"""HTTP for the REST providers: one httpx.AsyncClient, answers sorted into provider errors.

Messages name the host and path only: query strings carry API keys (FRED takes its key as a
parameter), and error messages end up in logs, fetch records and API responses.
"""

from __future__ import annotations

import email.utils
import errno
import socket
import time
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

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


def where(url: httpx.URL) -> str:
    return f"{url.host}{url.path}"


def raise_for_status(response: httpx.Response, *, not_found: tuple[int, ...] = (404,)) -> None:
    status = response.status_code
    if status < 400:
        return
    place = where(response.request.url)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        raise RateLimitedError(f"429 from {place}", retry_after=retry_after)
    if status >= 500 or status == 408:
        raise TemporaryProviderError(f"{status} from {place}")
    if status in not_found:
        raise ProviderDataNotFound(f"{status} from {place}: {_snippet(response)}")
    raise PermanentProviderError(f"{status} from {place}: {_snippet(response)}")


def _snippet(response: httpx.Response) -> str:
    return " ".join(response.text[:200].split())


class HttpClient:
    """A thin wrapper that turns transport failures and statuses into provider errors."""

    def __init__(self, *, timeout_seconds: float, client: httpx.AsyncClient | None = None) -> None:
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=True,
        )

    async def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        not_found: tuple[int, ...] = (404,),
    ) -> httpx.Response:
        try:
            response = await self._client.get(url, params=params, headers=headers)
        except httpx.TimeoutException as exc:
            target = where(exc.request.url) if _has_request(exc) else "provider"
            raise ProviderTimeout(f"timed out: {target}") from None
        except httpx.TransportError as exc:
            target = where(exc.request.url) if _has_request(exc) else "provider"
            offline = offline_reason(exc) if isinstance(exc, httpx.ConnectError) else None
            if offline is not None:
                raise ProviderUnreachable(f"unreachable: {target}: {offline} (offline?)") from None
            raise TemporaryProviderError(f"{type(exc).__name__} on {target}") from None
        raise_for_status(response, not_found=not_found)
        return response

    async def get_json(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        not_found: tuple[int, ...] = (404,),
    ) -> Any:
        response = await self.get(url, params=params, headers=headers, not_found=not_found)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise MalformedResponse(
                f"{where(response.request.url)} did not return JSON: {_snippet(response)[:80]}"
            ) from None

    async def aclose(self) -> None:
        await self._client.aclose()


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


def _has_request(exc: httpx.RequestError) -> bool:
    try:
        exc.request  # noqa: B018 (property raises RuntimeError when unset)
    except RuntimeError:
        return False
    return True
