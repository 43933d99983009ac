"""The link in a password-reset mail leads to a working page on the served base URL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from asgi_lifespan import LifespanManager

from quantdesk.app import create_app
from quantdesk.config import Settings
from quantdesk.db import Database
from tests.support.accounts import create_user, new_password, read_mails
from tests.support.problems import assert_problem
from tests.support.secrets_watch import remember

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


class _Form(HTMLParser):
    """The page's form: its action and its fields (name -> value)."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.method: str | None = None
        self.fields: dict[str, str] = {}
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action, self.method = values.get("action"), values.get("method")
        elif tag == "input":
            self.fields[values["name"]] = values.get("value", "")
        elif tag == "script":
            self.scripts += 1


def parse_form(html: str) -> _Form:
    form = _Form()
    form.feed(html)
    return form


Site = tuple[httpx.AsyncClient, Database, Path]


async def _serve(settings: Settings, inbox: Path, base_url: str) -> AsyncIterator[Site]:
    app = create_app(settings.model_copy(update={"mail_backend": "file", "mail_dir": inbox}))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client, app.state.db, inbox


@pytest.fixture
async def site(settings: Settings, tmp_path: Path) -> AsyncIterator[Site]:
    async for served in _serve(settings, tmp_path / "mail", "http://quantdesk.test:8123"):
        yield served


def mailed_link(inbox: Path) -> str:
    (body,) = read_mails(inbox)
    found = re.search(r"https?://\S+/reset-password\?token=([\w-]+)", body)
    assert found, body
    remember(found.group(1))
    return found.group(0)


async def _ask(client: httpx.AsyncClient, db_email: str) -> None:
    asked = await client.post("/api/v1/auth/password-reset/request", json={"email": db_email})
    assert asked.status_code == 202


async def test_the_mailed_link_opens_a_form_that_resets_the_password(
    site: Site,
) -> None:
    client, db, inbox = site
    account = await create_user(db)
    await _ask(client, account.email)
    link = mailed_link(inbox)
    assert link.startswith("http://quantdesk.test:8123/reset-password?token=")  # as requested

    page = await client.get(link, headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "form-action 'self'" in csp
    assert "unsafe-inline" not in csp and "script-src" not in csp
    assert page.headers["cache-control"] == "no-store"
    form = parse_form(page.text)
    assert form.scripts == 0 and (form.method or "").lower() == "post"
    assert set(form.fields) == {"token", "new_password", "confirm_password"}

    new = new_password()
    submitted = await client.post(
        urljoin(link, form.action),
        data={**form.fields, "new_password": new, "confirm_password": new},
        headers=HTML,
    )
    assert submitted.status_code == 200, submitted.text
    assert "Password changed" in submitted.text
    signed_in = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": new}
    )
    assert signed_in.status_code == 200
    remember(signed_in.json()["access_token"], signed_in.json()["refresh_token"])
    again = await client.post(
        urljoin(link, form.action),
        data={**form.fields, "new_password": new, "confirm_password": new},
        headers=HTML,
    )
    assert again.status_code == 401 and "no longer valid" in again.text


async def test_a_rejected_password_keeps_the_link_usable(
    site: Site,
) -> None:
    client, db, inbox = site
    account = await create_user(db)
    await _ask(client, account.email)
    token = parse_form((await client.get(mailed_link(inbox), headers=HTML)).text).fields["token"]
    weak = await client.post(
        "/reset-password",
        data={"token": token, "new_password": "short", "confirm_password": "short"},
        headers=HTML,
    )
    assert weak.status_code == 422 and "at least 12 characters" in weak.text
    assert parse_form(weak.text).fields["token"] == token  # the form again, to retry
    new = new_password()
    differ = {"token": token, "new_password": new, "confirm_password": new + "x"}
    # Another client than a browser gets the API's problem+json, naming the field.
    body = assert_problem(await client.post("/reset-password", data=differ), 422)
    assert body["errors"][0]["loc"] == ["body", "confirm_password"]  # type: ignore[index]
    done = await client.post(
        "/reset-password", data={"token": token, "new_password": new, "confirm_password": new}
    )
    assert done.status_code == 204


async def test_the_link_uses_the_public_url_when_set(settings: Settings, tmp_path: Path) -> None:
    public = settings.model_copy(update={"public_url": "https://quantdesk.example.com/api-root"})
    async for client, db, inbox in _serve(public, tmp_path / "mail", "http://10.0.0.5:8000"):
        account = await create_user(db)
        await _ask(client, account.email)
        link = mailed_link(inbox)
        assert urlsplit(link)[:3] == ("https", "quantdesk.example.com", "/api-root/reset-password")


async def test_the_page_needs_a_token(site: Site) -> None:
    client, _, _ = site
    assert_problem(await client.get("/reset-password"), 422)
