"""The browser session: the refresh token in an httpOnly cookie instead of the JSON body.

A browser client (the dashboard at `/app`, or any other) logs in with `?refresh_cookie=true`.
The refresh token then never reaches JavaScript: it is set as `qd_refresh`, `HttpOnly`,
`SameSite=Strict`, `Path=/api/v1/auth` (sent only to the auth routes), `Secure` outside
development, and the body's `refresh_token` is null. The access token (15 minutes) lives in
the page's memory only; on load the page calls `POST /auth/refresh` with an empty JSON body and
the cookie answers for it, rotated on every use like a body token (a replayed one revokes the
session). Cross-site requests cannot use the cookie: SameSite=Strict keeps it off them, and a
cookie refresh must be `application/json`, which a cross-site form cannot send without a CORS
preflight that this API never grants. Logout clears it.
"""

from __future__ import annotations

from fastapi import Request, Response

from quantdesk.config import Settings

REFRESH_COOKIE = "qd_refresh"
REFRESH_COOKIE_PATH = "/api/v1/auth"


def set_refresh_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        REFRESH_COOKIE,
        token,
        max_age=settings.refresh_token_ttl_days * 86_400,
        path=REFRESH_COOKIE_PATH,
        httponly=True,
        secure=not settings.is_development,
        samesite="strict",
    )


def clear_refresh_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        REFRESH_COOKIE,
        path=REFRESH_COOKIE_PATH,
        httponly=True,
        secure=not settings.is_development,
        samesite="strict",
    )


def refresh_cookie(request: Request) -> str | None:
    """The cookie's token, only on a JSON request (see the module docstring for why)."""
    token = request.cookies.get(REFRESH_COOKIE)
    if not token or not request.headers.get("content-type", "").startswith("application/json"):
        return None
    return token
