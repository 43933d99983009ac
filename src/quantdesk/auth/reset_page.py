"""The page a password-reset mail links to: `GET /reset-password?token=...` and its form.

No script at all: the page is a plain HTML form posting `application/x-www-form-urlencoded`
to `POST /reset-password`, which sets the password exactly as
`POST /api/v1/auth/password-reset/confirm` does. Its Content-Security-Policy allows only its
one inline style (by hash) and form submission to this origin. The token travels in the link
and a hidden field; the page is never cached and sends no Referer (quantdesk.http.headers).

Answers are HTML for a browser (its `Accept` names `text/html`); any other client gets the
API's application/problem+json errors and a 204, like the JSON endpoint.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse, Response

from quantdesk.auth.dependencies import PUBLIC, request_ip
from quantdesk.auth.service import ClientInfo, auth_service
from quantdesk.dependencies import SessionDep, SettingsDep
from quantdesk.errors import AppError, Unprocessable, field_error

PATH = "/reset-password"
MAX_TOKEN = 256
MAX_PASSWORD = 1024
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}"
    "label{display:block;margin:1rem 0 .25rem}input{width:100%;padding:.4rem;box-sizing:border-box}"
    "button{margin-top:1.25rem;padding:.5rem 1rem}.error{color:#a00}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CSP = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-store"}

router = APIRouter(tags=["auth"])


class UnsupportedMediaType(AppError):
    status, code, title = 415, "unsupported-media-type", "Unsupported Media Type"


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="referrer" content="no-referrer"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status_code, headers=HEADERS)


def _form(token: str, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    problem = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    # A relative action: right however the API is mounted behind a proxy.
    body = (
        f'{problem}<form method="post" action="reset-password">'
        f'<input type="hidden" name="token" value="{escape(token)}">'
        '<label for="new_password">New password</label>'
        '<input id="new_password" name="new_password" type="password" required minlength="12"'
        ' maxlength="128" autocomplete="new-password">'
        '<label for="confirm_password">Repeat it</label>'
        '<input id="confirm_password" name="confirm_password" type="password" required'
        ' minlength="12" maxlength="128" autocomplete="new-password">'
        '<button type="submit">Set password</button></form>'
        "<p>At least 12 characters, not a common password, not your email name.</p>"
    )
    return _page("Choose a new password", body, status_code)


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


@router.get(PATH, dependencies=[PUBLIC], response_class=HTMLResponse, include_in_schema=False)
async def reset_password_page(
    token: Annotated[str, Query(min_length=1, max_length=MAX_TOKEN)],
) -> HTMLResponse:
    """The form; the token is only checked when the form is submitted."""
    return _form(token)


def _field(form: dict[str, str], name: str, limit: int) -> str:
    value = form.get(name, "")
    if not value or len(value) > limit:
        message = "required" if not value else f"at most {limit} characters"
        raise Unprocessable(f"{name}: {message}", errors=[field_error(["body", name], message)])
    return value


@router.post(PATH, dependencies=[PUBLIC], include_in_schema=False)
async def reset_password_form(
    request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """`application/x-www-form-urlencoded`: token, new_password, confirm_password."""
    html = _wants_html(request)
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise UnsupportedMediaType("send the form as application/x-www-form-urlencoded")
    raw = await request.form()
    form = {key: value for key, value in raw.items() if isinstance(value, str)}
    token = form.get("token", "")[:MAX_TOKEN]
    try:
        token = _field(form, "token", MAX_TOKEN)
        new_password = _field(form, "new_password", MAX_PASSWORD)
        if form.get("confirm_password") != new_password:
            message = "the two passwords differ"
            raise Unprocessable(
                message, errors=[field_error(["body", "confirm_password"], message)]
            )
        client = ClientInfo(request_ip(request, settings), request.headers.get("user-agent"))
        await auth_service.confirm_password_reset(
            session, token=token, new_password=new_password, client=client
        )
    except AppError as exc:
        if not html:
            raise
        # Answered, not raised: undo the unit of work here (a weak password must not spend
        # the token it came with).
        if not exc.keep_changes:
            await session.rollback()
        if exc.status == 401:  # the token: nothing on this page can fix it
            body = (
                "<p>This link is invalid, expired or already used; only the newest link "
                "sent works. Ask for a new one.</p>"
            )
            return _page("Link no longer valid", body, exc.status)
        return _form(token, exc.detail, exc.status)
    if not html:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return _page("Password changed", "<p>Your password was changed. Sign in with it.</p>")
