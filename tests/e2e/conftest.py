"""Browser fixtures for the dashboard's end-to-end tests (tests/support/browser.py).

* `browser`: headless chromium for the package's tests (skips without one; fails on CI).
* `live_server`: a real `quantdesk serve` on a fresh demo database with an admin, an ordinary
  user and the demo user (tests/support/live_server.py), once per session and xdist worker.
* `page`: a fresh browser context on the live server; console errors, uncaught exceptions, failed
  requests and CSP violations fail the test at teardown. `page_watch` is what it collected.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.support.browser import (
    PageWatch,
    chromium_or_skip,
    fail_on_problems,
    launched_chromium,
    watched_page,
)
from tests.support.live_server import LiveServer, running_live_server
from tests.support.settings import start_or_skip


# Package scope, not session: while sync Playwright runs, its event loop is the thread's running
# loop, and every asyncio test run after it on the same xdist worker would fail ("Runner.run()
# cannot be called from a running event loop"). Leaving the package stops it.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with launched_chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    chromium_or_skip()  # no demo load for tests that will skip anyway
    with contextlib.ExitStack() as stack:
        yield start_or_skip(stack, running_live_server(tmp_path_factory.mktemp("live")))


@pytest.fixture
def page_watch() -> PageWatch:
    return PageWatch()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, page_watch: PageWatch) -> Iterator[Page]:
    with watched_page(browser, live_server.base_url, page_watch) as opened:
        yield opened
    fail_on_problems(page_watch)
