"""The dashboard's shell in real chromium against the live server: /app/ loads every script and
style under its CSP without a console error or violation (the `page` fixture fails the test on
any), replaces the boot message, passes axe, and is saved as var/screenshots/shell.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.support.browser import assert_accessible, screenshot
from tests.support.web_assets import INDEX, require_vendor

pytestmark = pytest.mark.skipif(not INDEX.is_file(), reason="no static/index.html yet")


def test_the_shell_loads_clean_and_accessible(page: Page) -> None:
    require_vendor()
    response = page.goto("/app")  # redirected to /app/
    assert response is not None and response.ok
    assert page.url.endswith("/app/")
    page.wait_for_function("() => !document.querySelector('#root .boot')")
    page.wait_for_load_state("networkidle")
    assert page.title()
    screenshot(page, "shell")
    assert_accessible(page)
