"""Steps the dashboard's page tests share: sign in through the sign-in page, and read the
message a form shows next to a field (the `Field` component links it to its control with
aria-describedby, which is also how a screen reader finds it)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support.browser import screenshot
from tests.support.live_server import Credentials

TIMEOUT_MS = 20_000


def sign_in(page: Page, who: Credentials) -> None:
    """Open the dashboard and sign in with the form; returns once the user menu names them."""
    page.goto("/app/#/signin")
    page.get_by_label("Email").fill(who.email)
    page.get_by_label("Password").fill(who.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("header .user")).to_contain_text(who.email, timeout=TIMEOUT_MS)


def open_route(page: Page, route: str) -> None:
    """Go to `#/<route>` in the already loaded dashboard (the session stays in memory)."""
    page.evaluate("(route) => { location.hash = '#/' + route; }", route)


def field_message(page: Page, label: str) -> str:
    """The message shown for the control labelled `label` ('' when there is none)."""
    control = page.get_by_label(label, exact=True)
    described = control.get_attribute("aria-describedby") or ""
    if not described.endswith("-error"):
        return ""
    return page.locator(f"#{described}").inner_text()


def shot(page: Page, name: str) -> Path:
    """`screenshot` from the top of the page: scrolled, the sticky header would be painted
    over the middle of a full-page capture."""
    page.evaluate("window.scrollTo(0, 0)")
    return screenshot(page, name)
