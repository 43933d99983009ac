"""A real browser for the dashboard's end-to-end tests: Playwright for Python driving the system's
chromium (Debian's `chromium` package; `.ci/run` installs it). No browser is ever downloaded:
`playwright install` is never run, the executable is the first of `$QUANTDESK_CHROMIUM`,
`/usr/bin/chromium-headless-shell`, `/usr/bin/chromium` that exists. Without one the tests
skip, except on CI (`CI=true`), where they fail, as for PostgreSQL.

What every page test gets from here:

* :class:`PageWatch`: console errors, uncaught exceptions, failed requests, error responses (a
  page asset that does not load; an API 5xx; API 4xx answers are the app's to handle) and
  Content-Security-Policy violations (the `securitypolicyviolation` event, reported through a
  Playwright binding, which CSP does not govern); the `page` fixture fails the test at
  teardown if any occurred, which is how the CSP is proven in a real browser.
* :func:`screenshot`: a PNG of the page in `var/screenshots/<name>.png` (var/ is git-ignored).
* :func:`assert_accessible`: axe-core (axe-playwright-python, injected with `page.evaluate`,
  which CSP does not block) with no violation of impact serious or critical.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    Response,
    ViewportSize,
    sync_playwright,
)

from tests.support.servers import server_required

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium")
SERIOUS = frozenset({"serious", "critical"})
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
HTTP_ERROR_LOG = "Failed to load resource: the server responded with a status of"
_NAME = re.compile(r"[^A-Za-z0-9._-]+")

# Reported by the page itself to a binding: fired for every CSP violation, inline or not.
CSP_LISTENER = """
window.addEventListener("securitypolicyviolation", (event) => {
  window.__quantdeskCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`
    + ` (${event.sourceFile || "?"}:${event.lineNumber})`
  );
}, true);
"""


def find_chromium() -> str | None:
    configured = os.environ.get("QUANTDESK_CHROMIUM")
    for candidate in (configured, *CHROMIUM_CANDIDATES):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def chromium_or_skip() -> str:
    path = find_chromium()
    if path is None:
        message = "no chromium (apt-get install chromium, or set QUANTDESK_CHROMIUM)"
        if server_required():
            pytest.fail(f"browser required on CI: {message}")
        pytest.skip(message)
    return path


@contextmanager
def launched_chromium() -> Iterator[Browser]:
    """Headless chromium; `--no-sandbox` since CI runs as root."""
    executable = chromium_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageWatch:
    """Everything that went wrong in a page's life: any entry fails the test."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    error_responses: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("requestfailed", self._request_failed)
        page.on("response", self._response)
        page.expose_function("__quantdeskCspViolation", self._csp_violation)
        page.add_init_script(CSP_LISTENER)

    def _csp_violation(self, text: object) -> None:
        self.csp_violations.append(str(text))

    def _response(self, response: Response) -> None:
        """A page asset (document, script, style, image, font) must load; an API call may be
        refused with a 4xx the app handles (a 401 before sign-in, a 422 on a form), not a 5xx."""
        kind = response.request.resource_type
        api_call = kind in {"fetch", "xhr", "eventsource", "websocket"}
        if response.status >= 500 or (response.status >= 400 and not api_call):
            self.error_responses.append(f"{response.status} {kind} {response.url}")

    def _console(self, message: ConsoleMessage) -> None:
        # Chrome logs every HTTP error response; those are judged in _response.
        if message.text.startswith(HTTP_ERROR_LOG):
            return
        if message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            self.console_errors.append(f"{message.text} ({where})")

    def _request_failed(self, request: Request) -> None:
        failure = request.failure or "failed"
        if "ERR_ABORTED" in failure:  # navigation away, a cancelled fetch: not an error
            return
        self.failed_requests.append(f"{request.method} {request.url}: {failure}")

    def problems(self) -> list[str]:
        return [
            *(f"CSP violation: {v}" for v in self.csp_violations),
            *(f"console error: {e}" for e in self.console_errors),
            *(f"uncaught: {e}" for e in self.page_errors),
            *(f"request failed: {r}" for r in self.failed_requests),
            *(f"error response: {r}" for r in self.error_responses),
        ]


def screenshot(page: Page, name: str) -> Path:
    """Save the page as `var/screenshots/<name>.png` (full page) and return the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{_NAME.sub('-', name).strip('-') or 'page'}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def serious_violations(results: dict[str, Any]) -> list[str]:
    found = []
    for violation in results.get("violations", []):
        if violation.get("impact") in SERIOUS:
            targets = [str(node.get("target")) for node in violation.get("nodes", [])][:5]
            found.append(
                f"{violation['impact']}: {violation['id']} ({violation.get('help', '')}) "
                f"at {', '.join(targets)}"
            )
    return found


def assert_accessible(page: Page) -> None:
    """axe-core over the page as it is now: no serious or critical violation."""
    results = Axe().run(page)
    found = serious_violations(results.response)
    assert not found, f"{len(found)} serious/critical axe violations:\n" + "\n".join(found)


@contextmanager
def watched_page(browser: Browser, base_url: str, watch: PageWatch) -> Iterator[Page]:
    """A fresh context (no cookies, the page's CSP enforced) and page, watched by `watch`."""
    context = browser.new_context(base_url=base_url, bypass_csp=False, viewport=VIEWPORT)
    try:
        page = context.new_page()
        watch.attach(page)
        yield page
    finally:
        context.close()


def fail_on_problems(watch: PageWatch) -> None:
    problems = watch.problems()
    if problems:
        pytest.fail(f"{len(problems)} problems in the browser:\n" + "\n".join(problems))
