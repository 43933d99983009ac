"""The API keys page in a real browser against the real server: a key created on the page shows
its secret once (with Copy and the warning), works for a plain HTTP request with X-API-Key, is
gone from the page once dismissed, and is refused after it is revoked."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import assert_accessible, screenshot
from tests.support.e2e_pages import TIMEOUT_MS, open_route, sign_in
from tests.support.live_server import LiveServer


def test_create_use_and_revoke_an_api_key(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server.user)
    page.locator("header .user").get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="Your keys")).to_be_visible(timeout=TIMEOUT_MS)

    page.get_by_label("Name").fill("e2e script")
    page.get_by_label("Expires in days").fill("30")
    page.get_by_label("read:tickers").check()
    page.get_by_role("button", name="Create key").click()
    secret_box = page.get_by_label("API key e2e script")
    expect(secret_box).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text("it is shown only once")).to_be_visible()
    secret = secret_box.input_value()
    assert len(secret) > 20
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("status").filter(has_text="Cop")).to_be_visible()
    screenshot(page, "keys")
    assert_accessible(page)

    # The key works for any client, without the browser's session.
    me = httpx.get(live_server.url("/api/v1/auth/me"), headers={"X-API-Key": secret})
    assert me.status_code == 200 and me.json()["email"] == live_server.user.email
    keys = page.get_by_role("table", name="Keys, oldest first")
    row = keys.locator("tbody tr", has_text="e2e script")
    expect(row).to_contain_text("active", timeout=TIMEOUT_MS)
    expect(row).to_contain_text("read:tickers")

    # Dismissed, the secret is nowhere on the page, not even after reopening it.
    page.get_by_role("button", name="I have stored it").click()
    expect(secret_box).to_have_count(0)
    open_route(page, "research")
    open_route(page, "keys")
    expect(row).to_contain_text("active", timeout=TIMEOUT_MS)
    assert secret not in page.content()

    page.emulate_media(color_scheme="dark")
    screenshot(page, "keys-dark")
    assert_accessible(page)

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke e2e script").click()
    expect(row).to_contain_text("revoked", timeout=TIMEOUT_MS)
    refused = httpx.get(live_server.url("/api/v1/auth/me"), headers={"X-API-Key": secret})
    assert refused.status_code == 401
