"""The Operations page in a real browser against the real server and demo data: as an
administrator every tab shows data (provider health rows, jobs run from the page, monitor
metrics, cache categories, the audit chain verified "ok", users including the demo user, a
webhook with its deliveries, an export downloaded through its signed link); an ordinary user
neither sees the page in the navigation nor gets it by its address."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.browser import assert_accessible, screenshot
from tests.support.e2e_pages import TIMEOUT_MS, open_route, sign_in
from tests.support.live_server import LiveServer


def look(page: Page, name: str) -> None:
    screenshot(page, name)
    assert_accessible(page)


def tab(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def test_every_operations_tab_shows_data_to_an_admin(page: Page, live_server: LiveServer) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, live_server.admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Operations").click()
    providers = page.get_by_role("table", name="Provider health (this process)")
    expect(providers.locator("tbody tr").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(providers.locator("tbody")).to_contain_text("ecb")
    expect(providers.locator("tbody")).to_contain_text("closed")
    look(page, "ops-providers")

    tab(page, "Jobs")
    page.get_by_label("Job", exact=True).select_option("market.refresh")
    page.get_by_role("button", name="Run now").click()
    expect(page.get_by_text("Queued market.refresh as run #")).to_be_visible(timeout=TIMEOUT_MS)
    runs = page.get_by_role("table", name="Runs, newest first")
    expect(runs.locator("tbody tr").first).to_contain_text("market.refresh", timeout=TIMEOUT_MS)
    expect(page.get_by_role("table", name="Scheduled jobs")).to_contain_text("news.fetch")
    look(page, "ops-jobs")

    tab(page, "Alerts")
    metrics = page.get_by_role("table", name="Metrics")
    expect(metrics.locator("tbody")).to_contain_text("api_error_rate", timeout=TIMEOUT_MS)
    look(page, "ops-alerts")

    tab(page, "Cache")
    categories = page.get_by_role("table", name="Per category")
    expect(categories.locator("tbody")).to_contain_text("quotes", timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Clear the news category").click()
    expect(page.get_by_text("Cleared category:news")).to_be_visible(timeout=TIMEOUT_MS)
    look(page, "ops-cache")

    tab(page, "Audit")
    expect(page.locator(".chain")).to_contain_text("chain ok", timeout=TIMEOUT_MS)
    events = page.get_by_role("table", name="Events, newest first")
    expect(events.locator("tbody")).to_contain_text("auth.login")
    page.get_by_label("Action").fill("jobs.run")
    page.get_by_role("button", name="Filter").click()
    expect(events.locator("tbody tr").first).to_contain_text("jobs.run", timeout=TIMEOUT_MS)
    look(page, "ops-audit")

    tab(page, "Users")
    accounts = page.get_by_role("table", name="Accounts")
    expect(accounts.locator("tbody")).to_contain_text("demo@example.com", timeout=TIMEOUT_MS)
    expect(accounts.locator("tbody")).to_contain_text(live_server.user.email)
    look(page, "ops-users")

    tab(page, "Webhooks")
    page.get_by_label("URL").fill("https://hooks.example.org/quantdesk")
    page.get_by_role("button", name="Create webhook").click()
    expect(page.get_by_text("Signing secret, shown only once")).to_be_visible(timeout=TIMEOUT_MS)
    subscriptions = page.get_by_role("table", name="Subscriptions")
    expect(subscriptions.locator("tbody")).to_contain_text("hooks.example.org")
    page.get_by_role("button", name="Send test event").click()
    deliveries = page.get_by_role("table", name="Deliveries, newest first")
    expect(deliveries.locator("tbody")).to_contain_text("webhook.test", timeout=TIMEOUT_MS)
    look(page, "ops-webhooks")

    tab(page, "Exports")
    page.get_by_label("Symbol").fill("GOOG")
    page.get_by_role("button", name="Export bars").click()
    download = page.get_by_role("link", name="Download csv").first
    expect(download).to_be_visible(timeout=TIMEOUT_MS)
    answer = page.request.get(download.get_attribute("href") or "")
    assert answer.status == 200 and answer.text().startswith("time,open,high,low,close,volume")
    look(page, "ops-exports")

    page.set_viewport_size({"width": 390, "height": 844})
    tab(page, "Audit")
    expect(page.locator(".chain")).to_contain_text("chain ok", timeout=TIMEOUT_MS)
    look(page, "ops-phone")


def test_an_ordinary_user_has_no_operations(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server.user)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Research")).to_be_visible()
    expect(nav.get_by_role("link", name="Operations")).to_have_count(0)
    open_route(page, "ops?tab=users")
    expect(page.get_by_text("This page is for administrators.")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_role("table")).to_have_count(0)
