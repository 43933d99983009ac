"""The Research page in a real browser against the real server and demo data: movers and the
market summary, the screener's filter builder (the API's 422 next to the row's value, then
results), FX sources with monthly lines and the converter, news with sentiment filtered by
symbol, and the symbol report drawn from its markdown."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.browser import assert_accessible, screenshot
from tests.support.e2e_pages import TIMEOUT_MS, open_route, sign_in
from tests.support.live_server import LiveServer


def test_market_and_screener_show_demo_data(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server.user)
    open_route(page, "research")
    movers = page.get_by_role("table", name="Movers: gainers")
    expect(movers.locator("tbody tr").first).to_contain_text("GOOG", timeout=TIMEOUT_MS)
    summary = page.locator(
        "section.card", has=page.get_by_role("heading", name="Summary by asset class")
    )
    expect(summary.locator("tbody")).to_contain_text("equity")
    page.get_by_label("Kind").select_option("losers")
    expect(page.get_by_role("table", name="Movers: losers")).to_be_visible(timeout=TIMEOUT_MS)
    screenshot(page, "research-market")
    assert_accessible(page)

    page.get_by_role("tab", name="Screener").click()
    results = page.get_by_role("table", name="Screener results")
    expect(results.locator("tbody")).to_contain_text("GOOG", timeout=TIMEOUT_MS)
    # A second row: a price compared with a word is the API's 422, shown at that row's value.
    page.get_by_role("button", name="Add filter").click()
    second = page.locator("fieldset", has_text="Filter 2")
    second.get_by_label("Field").select_option("price")
    second.get_by_label("Operator").select_option("gt")
    second.get_by_label("Value").fill("cheap")
    page.get_by_role("button", name="Screen", exact=True).click()
    expect(second.locator(".field-error")).to_have_text(
        "price compares with a number", timeout=TIMEOUT_MS
    )
    assert second.get_by_label("Value").get_attribute("aria-invalid") == "true"
    first = page.locator("fieldset", has_text="Filter 1")
    expect(first.locator(".field-error")).to_have_count(0)  # the first row carries no message
    second.get_by_label("Value").fill("100")
    page.get_by_role("button", name="Screen", exact=True).click()
    expect(second.locator(".field-error")).to_have_count(0, timeout=TIMEOUT_MS)
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results.locator("tbody")).to_contain_text("Alphabet")
    screenshot(page, "research-screener")
    assert_accessible(page)


def test_fx_news_and_report_show_demo_data(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server.user)
    open_route(page, "research?tab=fx")
    sources = page.get_by_role("table", name="EUR/USD by source")
    expect(sources.locator("tbody tr").first).to_contain_text("ecb", timeout=TIMEOUT_MS)
    lines = page.get_by_role("img", name="EUR/USD mid by source: ecb")
    # Twelve month ends of the ECB's history: one point each.
    expect(lines).to_have_attribute("data-points", "12", timeout=TIMEOUT_MS)
    page.get_by_label("Amount").fill("100")
    page.get_by_role("button", name="Convert").click()
    expect(page.locator(".fx-result")).to_contain_text(
        re.compile(r"100 USD = [\d.]+ JPY"), timeout=TIMEOUT_MS
    )
    screenshot(page, "research-fx")
    assert_accessible(page)

    page.get_by_role("tab", name="News").click()
    items = page.locator("ul.news > li")
    expect(items.first).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator("ul.news .tag", has_text="positive").first).to_be_visible()
    expect(page.locator("ul.news .tag", has_text="negative").first).to_be_visible()
    page.get_by_label("Symbol").fill("goog")
    page.get_by_role("button", name="Filter").click()
    expect(items.first).to_contain_text("Google", timeout=TIMEOUT_MS)
    for meta in items.locator("p.muted").all_inner_texts():
        assert "GOOG" in meta
    screenshot(page, "research-news")
    assert_accessible(page)

    page.get_by_role("tab", name="Report").click()
    report = page.locator("article.report")
    expect(report.get_by_role("heading", name="Performance")).to_be_visible(timeout=TIMEOUT_MS)
    expect(
        report.get_by_role("heading", name=re.compile(r"\(GOOG\) — research report"))
    ).to_be_visible()
    expect(report.locator("table").first).to_contain_text("1y")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download PDF").click()
    assert download.value.suggested_filename == "GOOG-report.pdf"
    screenshot(page, "research-report")
    assert_accessible(page)
