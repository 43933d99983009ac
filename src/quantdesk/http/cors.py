"""CORS: Starlette's CORSMiddleware, entered only by requests that carry an `Origin`.

Requests without `Origin` (servers, scripts, curl, same-origin navigations) get nothing from
CORS except `Vary: Origin`, which tells shared caches the answer would differ for a
cross-origin caller. Starlette's middleware parses headers and wraps `send` for every request
to add just that; here it costs one header hook (quantdesk.http.response_headers).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from quantdesk.http.response_headers import Headers, with_response_headers

_VARY = b"vary"


def _vary_origin(headers: Headers) -> None:
    values = [value for name, value in headers if name.lower() == _VARY]
    if values:
        headers[:] = [(name, value) for name, value in headers if name.lower() != _VARY]
    headers.append((_VARY, b", ".join([*values, b"Origin"])))


class OriginGatedCORSMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        allow_origins: Sequence[str],
        allow_methods: Sequence[str],
        allow_headers: Sequence[str],
        expose_headers: Sequence[str],
    ) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=allow_origins,
            allow_methods=allow_methods,
            allow_headers=allow_headers,
            expose_headers=expose_headers,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not any(name == b"origin" for name, _ in scope["headers"]):
            await self.app(scope, receive, with_response_headers(scope, send, _vary_origin))
            return
        await self.cors(scope, receive, send)
