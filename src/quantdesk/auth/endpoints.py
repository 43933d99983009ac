"""/auth: register, login (JSON or OAuth2 form), refresh, logout, me, passwords."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import ValidationError

from quantdesk.auth.cookie import clear_refresh_cookie, refresh_cookie, set_refresh_cookie
from quantdesk.auth.dependencies import PUBLIC, SignedIn, policy, request_ip
from quantdesk.auth.schemas import (
    Credentials,
    MeRead,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    RefreshRequest,
    TokenPair,
    UserRead,
)
from quantdesk.auth.service import ClientInfo, auth_service
from quantdesk.auth.throttle import LoginThrottle
from quantdesk.dependencies import SessionDep, SettingsDep
from quantdesk.errors import Unauthorized, Unprocessable, field_error
from quantdesk.infra.mail import MailBackend
from quantdesk.kit.app_state import app_state

router = APIRouter(prefix="/auth", tags=["auth"])

FORM = "application/x-www-form-urlencoded"
LOGIN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": Credentials.model_json_schema()},
            FORM: {
                "schema": {
                    "type": "object",
                    "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
                    "required": ["username", "password"],
                }
            },
        },
    }
}


def client_info(request: Request, settings: SettingsDep) -> ClientInfo:
    return ClientInfo(
        ip=request_ip(request, settings), user_agent=request.headers.get("user-agent")
    )


def login_throttle(request: Request) -> LoginThrottle:
    return app_state(request.app).login_throttle


def mail_backend(request: Request) -> MailBackend:
    return app_state(request.app).mail


Client = Annotated[ClientInfo, Depends(client_info)]
RefreshCookie = Annotated[
    bool,
    Query(
        description="Set the refresh token as an httpOnly cookie (browsers) instead of "
        "returning it in the body"
    ),
]


def _deliver(pair: TokenPair, response: Response, settings: SettingsDep, cookie: bool) -> TokenPair:
    """The pair as asked: the refresh token in the body, or moved into the cookie."""
    if not cookie or pair.refresh_token is None:
        return pair
    set_refresh_cookie(response, settings, pair.refresh_token)
    return pair.model_copy(update={"refresh_token": None})


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    dependencies=[PUBLIC, Depends(policy("auth-register"))],
)
async def register(body: Credentials, session: SessionDep, client: Client) -> UserRead:
    user = await auth_service.register(
        session, email=body.email, password=body.password, client=client
    )
    return UserRead.model_validate(user)


async def _credentials(request: Request) -> Credentials:
    """JSON `{"email", "password"}`, or the OAuth2 password form (`username` = email)."""
    try:
        if request.headers.get("content-type", "").startswith(FORM):
            form = await request.form()
            return Credentials(
                email=str(form.get("username", "")), password=str(form.get("password", ""))
            )
        return Credentials.model_validate(await request.json())
    except ValidationError as exc:
        errors = [
            field_error(["body", *(str(p) for p in e["loc"])], e["msg"], kind=e["type"])
            for e in exc.errors()
        ]
        raise Unprocessable("invalid credentials payload", errors=errors) from exc
    except ValueError as exc:
        raise Unprocessable("send JSON {email, password} or an OAuth2 password form") from exc


@router.post(
    "/login", openapi_extra=LOGIN_BODY, dependencies=[PUBLIC, Depends(policy("auth-login"))]
)
async def login(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    client: Client,
    throttle: Annotated[LoginThrottle, Depends(login_throttle)],
    refresh_cookie: RefreshCookie = False,
) -> TokenPair:
    body = await _credentials(request)
    pair = await auth_service.login(
        session, settings, throttle, email=body.email, password=body.password, client=client
    )
    return _deliver(pair, response, settings, refresh_cookie)


@router.post("/refresh", dependencies=[PUBLIC])
async def refresh(
    request: Request,
    response: Response,
    body: RefreshRequest,
    session: SessionDep,
    settings: SettingsDep,
    client: Client,
) -> TokenPair:
    """Rotate a refresh token sent in the body, or (`{}`) the one in the `qd_refresh` cookie."""
    from_cookie = body.refresh_token is None
    token = body.refresh_token or refresh_cookie(request)
    if token is None:  # no credential at all: 401, like any other missing credential
        raise Unauthorized(
            "no refresh token: send {refresh_token}, or {} with the qd_refresh cookie that "
            "a login with ?refresh_cookie=true set"
        )
    pair = await auth_service.refresh(session, settings, refresh_token=token, client=client)
    return _deliver(pair, response, settings, from_cookie)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    principal: SignedIn,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    client: Client,
) -> None:
    await auth_service.logout(session, principal, client)
    clear_refresh_cookie(response, settings)


@router.get("/me")
async def me(principal: SignedIn, session: SessionDep) -> MeRead:
    user = await auth_service.get_user(session, principal)
    return MeRead(**UserRead.model_validate(user).model_dump(), scopes=sorted(principal.scopes))


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(
    body: PasswordChange, principal: SignedIn, session: SessionDep, client: Client
) -> None:
    await auth_service.change_password(
        session, principal, current=body.current_password, new=body.new_password, client=client
    )


@router.post("/password-reset/request", status_code=status.HTTP_202_ACCEPTED, dependencies=[PUBLIC])
async def request_password_reset(
    body: PasswordResetRequest,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: Client,
    mail: Annotated[MailBackend, Depends(mail_backend)],
) -> dict[str, str]:
    """Mails a link to the reset page (`GET /reset-password?token=...`) on
    `QUANTDESK_PUBLIC_URL`, or else on the base URL this request came to."""
    base_url = settings.public_url or str(request.base_url)
    await auth_service.request_password_reset(
        session, settings, mail, email=body.email, client=client, base_url=base_url
    )
    return {"status": "if the account exists, a reset link has been sent"}


@router.post(
    "/password-reset/confirm", status_code=status.HTTP_204_NO_CONTENT, dependencies=[PUBLIC]
)
async def confirm_password_reset(
    body: PasswordResetConfirm, session: SessionDep, client: Client
) -> None:
    await auth_service.confirm_password_reset(
        session, token=body.token, new_password=body.new_password, client=client
    )
