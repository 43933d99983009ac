"""The Paper trading page in a real browser against the real server, signed in as the demo user
on a fresh demo database: the demo account's summary, positions and equity curve show; a limit
order far below the market is placed from the ticket, listed as open and cancelled; an invalid
order shows the API's message at the field it names; the ledger and price alerts are listed."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.support.browser import assert_accessible
from tests.support.e2e_pages import TIMEOUT_MS, field_message, open_route, shot, sign_in
from tests.support.e2e_replay import api_client, running_replay
from tests.support.live_server import LiveServer

PRICE_COLUMN = 3  # Symbol, Qty, Avg entry, Price, ...


def demo_api(live_server: LiveServer, path: str, **params: str) -> Any:
    """What the API answers the demo user: the figures the page must show (other tests of the
    session may have replayed bars through the desk, so they are read, not assumed)."""
    with api_client(live_server, live_server.demo) as client:
        account = client.get("/accounts").json()["data"][0]["id"]
        answer = client.get(path.format(account=account), params=params)
        answer.raise_for_status()
        return answer.json()


def open_demo_account(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server.demo)
    open_route(page, "paper")
    accounts = page.locator("section", has=page.get_by_role("heading", name="Your accounts"))
    expect(accounts.locator("tbody tr")).to_have_count(1, timeout=TIMEOUT_MS)
    accounts.get_by_role("link", name="Demo portfolio").click()
    expect(page.get_by_role("heading", name=re.compile("^Demo portfolio"))).to_be_visible()


def test_the_demo_account_shows_positions_and_equity_and_trades_from_the_ticket(
    page: Page, live_server: LiveServer
) -> None:
    open_demo_account(page, live_server)
    summary = page.get_by_label("Account summary")
    expect(summary).to_contain_text("Equity", timeout=TIMEOUT_MS)
    # Cash is the ledger's; equity is repriced by the page from the latest streamed price,
    # which a replay earlier in the session may have moved away from the API's mark, so it is
    # checked against the page's own positions: cash + market value.
    cash = float(demo_api(live_server, "/accounts/{account}/summary")["cash"])
    expect(summary).to_contain_text(f"Cash{cash:,.2f} USD")
    held = demo_api(live_server, "/accounts/{account}/positions")["data"]
    assert [p["symbol"] for p in held] == ["GOOG"]  # the demo holds GOOG (75 after the load)
    positions = page.locator("section", has=page.get_by_role("heading", name="Positions"))
    goog = positions.locator("tbody tr", has_text="GOOG")
    expect(goog).to_contain_text(f"{float(held[0]['qty']):,.2f}")
    expect(goog).to_contain_text(f"{float(held[0]['avg_entry_price']):,.2f}")
    market_value = float(goog.locator("td").nth(4).inner_text().replace(",", ""))
    expect(summary).to_contain_text(f"Equity{cash + market_value:,.2f} USD")
    expect(page.get_by_role("status").filter(has_text="Live").first).to_be_visible()
    equity = page.get_by_role("img", name=re.compile("Account equity and cash"))
    expect(equity).to_have_attribute("data-points", re.compile(r"^[1-9]\d+$"), timeout=TIMEOUT_MS)
    shot(page, "paper")
    assert_accessible(page)

    # A limit buy far below the market: accepted, open, then cancelled from the list.
    ticket = page.locator("form", has=page.get_by_role("heading", name="Order ticket"))
    ticket.get_by_label("Side").select_option("buy")
    ticket.get_by_label("Symbol").fill("GOOG")
    ticket.get_by_label("Type").select_option("limit")
    ticket.get_by_label("Quantity").fill("3")
    ticket.get_by_label("Limit price").fill("1.25")
    ticket.get_by_role("button", name="Place buy order").click()
    expect(ticket.get_by_role("status")).to_contain_text("Placed: buy 3.00 GOOG limit 1.25 (new)")
    open_orders = page.locator("section", has=page.get_by_role("heading", name="Open orders"))
    cancel = open_orders.get_by_role("button", name="Cancel buy 3.00 GOOG limit 1.25")
    expect(cancel).to_be_visible(timeout=TIMEOUT_MS)
    cancel.click()
    expect(cancel).to_have_count(0, timeout=TIMEOUT_MS)
    page.get_by_role("tab", name="Orders").click()
    history = page.locator("tbody tr", has_text="buy 3.00 GOOG limit 1.25")
    expect(history).to_contain_text("canceled", timeout=TIMEOUT_MS)

    # A limit order without its price: the API's 422 sits at the price field.
    page.get_by_role("tab", name="Trade").click()
    ticket.get_by_label("Type").select_option("limit")
    ticket.get_by_label("Quantity").fill("2")
    ticket.get_by_label("Limit price").fill("")
    ticket.get_by_role("button", name="Place buy order").click()
    expect(ticket.locator(".field-error")).to_have_count(1, timeout=TIMEOUT_MS)
    assert field_message(page, "Limit price") == "a limit order needs limit_price"
    # A recorded reject (no field in the problem) goes to the field its check is about.
    ticket.get_by_label("Quantity").fill("1000000")
    ticket.get_by_label("Limit price").fill("700")
    ticket.get_by_role("button", name="Place buy order").click()
    expect(ticket.get_by_role("alert")).to_contain_text("insufficient buying power")
    assert "is free" in field_message(page, "Quantity")
    ticket.get_by_label("Quantity").fill("")
    ticket.get_by_role("button", name="Place buy order").click()
    expect(ticket.locator(".field-error")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(ticket.get_by_role("alert")).to_have_count(0)
    assert field_message(page, "Quantity") != ""
    assert field_message(page, "Limit price") == ""
    shot(page, "paper-ticket-error")
    assert_accessible(page)

    # Live: a market buy waits for the next market event; bars replayed through the desk fill
    # it (its order_update reloads the lists) and reach the page to reprice the position.
    ticket.get_by_label("Type").select_option("market")
    ticket.get_by_label("Quantity").fill("1")
    ticket.get_by_role("button", name="Place buy order").click()
    expect(ticket.get_by_role("status")).to_contain_text("Placed: buy 1.00 GOOG market (new)")
    waiting = open_orders.get_by_role("button", name="Cancel buy 1.00 GOOG market")
    expect(waiting).to_be_visible(timeout=TIMEOUT_MS)
    price = goog.locator("td").nth(PRICE_COLUMN)
    before = price.inner_text()
    with running_replay(live_server, "GOOG", "1d", "2013-02-01", speed=5):
        expect(waiting).to_have_count(0, timeout=TIMEOUT_MS)
        expect(goog).to_contain_text(f"{float(held[0]['qty']) + 1:,.2f}")
        expect(price).not_to_have_text(before, timeout=TIMEOUT_MS)

    page.emulate_media(color_scheme="dark")
    expect(summary).to_be_visible()
    shot(page, "paper-dark")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "paper-phone")
    assert_accessible(page)


def test_the_ledger_pages_and_price_alerts(page: Page, live_server: LiveServer) -> None:
    open_demo_account(page, live_server)
    page.get_by_role("tab", name="Activity").click()
    ledger = page.locator("table", has=page.get_by_text("Ledger entries, newest first"))
    expect(ledger.locator("tbody tr").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(ledger).to_contain_text("starting cash")  # the first deposit, on the first page
    fills = demo_api(live_server, "/accounts/{account}/activity", kind="fill", limit="25")
    assert len(fills["data"]) >= 4  # the demo's four fills, and any a replay made
    page.get_by_label("Entry kind").select_option("fill")
    expect(ledger.locator("tbody tr")).to_have_count(len(fills["data"]), timeout=TIMEOUT_MS)
    assert set(ledger.locator("tbody tr td:nth-child(2)").all_inner_texts()) == {"fill"}

    page.get_by_role("tab", name="Price alerts").click()
    alerts = page.locator("table", has=page.get_by_text("Your price alerts"))
    listed = len(demo_api(live_server, "/alerts")["data"])
    assert listed >= 1  # the demo's alert 5 % above its last close
    expect(alerts.locator("tbody tr")).to_have_count(listed, timeout=TIMEOUT_MS)
    form = page.locator("form", has=page.get_by_role("heading", name="New price alert"))
    form.get_by_label("Symbol").fill("GOOG")
    form.get_by_label("Condition").select_option("below")
    form.get_by_label("Level").fill("-5")
    form.get_by_role("button", name="Add alert").click()
    expect(form.locator(".field-error")).to_be_visible(timeout=TIMEOUT_MS)
    assert field_message(page, "Level") != ""
    form.get_by_label("Level").fill("650.50")
    form.get_by_label("Note").fill("buy the dip")
    form.get_by_role("button", name="Add alert").click()
    added = alerts.locator("tbody tr", has_text="buy the dip")
    expect(added).to_contain_text("below 650.50", timeout=TIMEOUT_MS)
    shot(page, "paper-alerts")
    assert_accessible(page)
    alerts.get_by_role("button", name="Delete alert GOOG below 650.50").click()
    expect(added).to_have_count(0, timeout=TIMEOUT_MS)
    expect(alerts.locator("tbody tr")).to_have_count(listed)


def test_opening_an_account(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server.user)
    open_route(page, "paper")
    form = page.locator("form", has=page.get_by_role("heading", name="Open a paper account"))
    form.get_by_label("Name").fill("E2E desk")
    form.get_by_label("Currency").fill("XYZ")
    form.get_by_label("Starting cash").fill("2500")
    form.get_by_role("button", name="Open account").click()
    expect(form.locator(".field-error")).to_have_count(1, timeout=TIMEOUT_MS)
    assert "unsupported currency" in field_message(page, "Currency")

    form.get_by_label("Currency").fill("usd")  # the form sends it upper-cased
    form.get_by_role("button", name="Open account").click()
    expect(page).to_have_url(re.compile(r"#/paper/[0-9a-f]+$"), timeout=TIMEOUT_MS)
    expect(page.get_by_role("heading", name=re.compile("^E2E desk"))).to_be_visible()
    summary = page.get_by_label("Account summary")
    expect(summary).to_contain_text("Equity2,500.00 USD", timeout=TIMEOUT_MS)
    expect(summary).to_contain_text("Free2,500.00 USD")
    # A new account's empty lists say what to do.
    expect(page.get_by_text("No open position: place an order with the ticket.")).to_be_visible()
    expect(page.get_by_text("No open order.")).to_be_visible()
    expect(page.get_by_text(re.compile("^No equity point yet"))).to_be_visible()
    page.get_by_role("link", name="← All accounts").click()
    accounts = page.locator("section", has=page.get_by_role("heading", name="Your accounts"))
    expect(accounts.get_by_role("link", name="E2E desk")).to_be_visible(timeout=TIMEOUT_MS)
    shot(page, "paper-accounts")
    assert_accessible(page)
