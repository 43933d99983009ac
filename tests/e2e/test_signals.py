"""The Signals page in a real browser against the real server and the demo data: the latest
signals are listed; the all-signals list filtered by symbol holds only that symbol; a row opens
its rationale in full (the API's own text); during a market replay the stream's new_signal and
signal_closed frames update rows in place, with the status the API then reports."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.browser import assert_accessible, screenshot
from tests.support.e2e_pages import TIMEOUT_MS, field_message, open_route, sign_in
from tests.support.e2e_replay import api_client, running_replay
from tests.support.live_server import LiveServer

SYMBOL_COLUMN = 2  # Created, Symbol, ...


def _symbols(page: Page) -> set[str]:
    cells = page.locator(f"table.signals tbody tr[data-signal] td:nth-child({SYMBOL_COLUMN})")
    return set(cells.all_inner_texts())


def test_signals_filter_rationale_and_live_status(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server.demo)
    open_route(page, "signals")
    rows = page.locator("table.signals tbody tr[data-signal]")
    expect(rows.first).to_be_visible(timeout=TIMEOUT_MS)
    assert _symbols(page) == {"GOOG", "EURUSD", "BTCUSD"}  # the latest per strategy, every symbol

    page.get_by_role("tab", name="All signals").click()
    expect(page).to_have_url(re.compile(r"tab=all"))
    page.get_by_label("Symbol").fill("EURUSD")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"symbol=EURUSD"), timeout=TIMEOUT_MS)
    symbols = rows.locator(f"td:nth-child({SYMBOL_COLUMN})")
    # A full page of EURUSD only, with a cursor for the next one.
    expect(symbols).to_have_text(["EURUSD"] * 50, timeout=TIMEOUT_MS)

    # Out of range: the API's 422 message shows next to the field it names.
    page.get_by_label("Min. confidence").fill("150")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".field-error")).to_be_visible(timeout=TIMEOUT_MS)
    assert "100" in field_message(page, "Min. confidence")
    page.get_by_label("Min. confidence").fill("")
    page.get_by_role("button", name="Apply").click()
    expect(symbols).to_have_text(["EURUSD"] * 50, timeout=TIMEOUT_MS)

    # The first row's rationale, in full: every text the API gives for it.
    first_id = rows.first.get_attribute("data-signal")
    with api_client(live_server, live_server.demo) as client:
        signal = client.get(f"/signals/{first_id}").json()["data"]
    rows.first.get_by_role("button", name="Why?").click()
    panel = page.locator(f"#why-{first_id}")
    for reason in signal["rationale"]:
        expect(panel).to_contain_text(reason["text"], timeout=TIMEOUT_MS)
    screenshot(page, "signals")
    assert_accessible(page)
    page.get_by_role("button", name="Load more").click()
    expect(symbols).to_have_text(["EURUSD"] * 100, timeout=TIMEOUT_MS)

    # Live: GOOG's signals while a replay of its 2013 bars runs. The replay publishes the stored
    # signals in market time (new_signal on their bar, signal_closed on the bar that settled
    # them); a row a signal_closed frame touched shows the settled status the API reports.
    page.get_by_label("Symbol").fill("GOOG")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"symbol=GOOG"), timeout=TIMEOUT_MS)
    expect(symbols).to_have_text(["GOOG"] * 50, timeout=TIMEOUT_MS)
    expect(page.get_by_role("status").filter(has_text="Live").first).to_be_visible()
    with running_replay(live_server, "GOOG", "1d", "2013-01-02", speed=5):
        touched = page.locator('table.signals tbody tr[data-live="closed"]').first
        expect(touched).to_be_visible(timeout=TIMEOUT_MS)
    signal_id = touched.get_attribute("data-signal")
    with api_client(live_server, live_server.demo) as client:
        status = client.get(f"/signals/{signal_id}").json()["data"]["status"]
    expect(touched.locator(".status")).to_have_text(status, timeout=TIMEOUT_MS)
    assert (
        page.locator("table.signals tbody tr[data-signal]").count() >= 50
    )  # updated, not reloaded
