"""The Markets page in a real browser against the real server and the demo data: the watchlist
shows quotes for the demo symbols and moves them live during a market replay; adding an unknown
symbol shows the API's message at the field; the symbol view draws every stored bar as candles,
toggles indicator overlays and panes computed by the API, follows a replay bar by bar, and
draws the largest demo set (its time from navigation to drawn is printed, not asserted)."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from tests.support.browser import assert_accessible, screenshot
from tests.support.e2e_pages import TIMEOUT_MS, field_message, open_route, sign_in
from tests.support.e2e_replay import api_client, running_replay
from tests.support.live_server import LiveServer

DEMO_SYMBOLS = ("GOOG", "EURUSD", "BTCUSD")


def _price(page: Page, symbol: str) -> str:
    row = page.locator("tr", has=page.get_by_role("link", name=symbol, exact=True))
    return row.locator(".quote-price").get_attribute("data-price") or ""


def test_watchlist_quotes_move_live_during_a_replay(page: Page, live_server: LiveServer) -> None:
    # A guest sees the demo symbols' quotes and is offered a sign-in for a watchlist of their own.
    page.goto("/app/#/markets")
    guest = page.locator("table", has=page.get_by_text("Live quotes"))
    expect(guest.locator(".quote-price")).to_have_count(len(DEMO_SYMBOLS), timeout=TIMEOUT_MS)
    for symbol in DEMO_SYMBOLS:
        expect(guest.get_by_role("link", name=symbol, exact=True)).to_be_visible()
    expect(page.get_by_text("to keep your own watchlist")).to_be_visible()

    sign_in(page, live_server.demo)
    open_route(page, "markets")
    quotes = page.locator("table", has=page.get_by_text("Live quotes"))
    for symbol in DEMO_SYMBOLS:
        row = quotes.locator("tr", has=page.get_by_role("link", name=symbol, exact=True))
        expect(row.locator(".quote-price")).to_have_attribute(
            "data-price", re.compile(r"^\d"), timeout=TIMEOUT_MS
        )
    with api_client(live_server, live_server.demo) as client:
        stored = client.get("/quotes/GOOG").json()["data"]["price"]
    assert float(_price(page, "GOOG")) == stored  # the API's quote, not a made-up figure
    expect(page.get_by_role("status").filter(has_text="Live").first).to_be_visible(
        timeout=TIMEOUT_MS
    )

    # An unknown symbol: the API's 422 message shows next to the field.
    page.get_by_label("Add symbol").fill("NOSUCH")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".field-error")).to_be_visible(timeout=TIMEOUT_MS)
    assert "unknown symbol" in field_message(page, "Add symbol")
    screenshot(page, "markets")
    assert_accessible(page)

    # Remove a symbol and add it back from the instrument search.
    page.get_by_role("button", name="Remove BTCUSD from the watchlist").click()
    expect(quotes.get_by_role("link", name="BTCUSD", exact=True)).to_have_count(
        0, timeout=TIMEOUT_MS
    )
    page.get_by_label("Search symbol or name").fill("bitcoin")
    results = page.locator("table", has=page.get_by_text(re.compile(r"\d+ instruments")))
    expect(results.locator("tbody tr")).to_have_count(1, timeout=TIMEOUT_MS)
    results.get_by_role("button", name="Add BTCUSD to the watchlist").click()
    expect(page.get_by_text("BTCUSD is on Demo.")).to_be_visible(timeout=TIMEOUT_MS)
    expect(quotes.get_by_role("link", name="BTCUSD", exact=True)).to_be_visible(timeout=TIMEOUT_MS)

    # A replay of GOOG's 2013 bars moves the displayed last price, frame by frame.
    before = _price(page, "GOOG")
    with running_replay(live_server, "GOOG", "1d", "2013-01-02", speed=5):
        goog = quotes.locator("tr", has=page.get_by_role("link", name="GOOG", exact=True))
        expect(goog.locator(".quote-price")).not_to_have_attribute(
            "data-price", before, timeout=TIMEOUT_MS
        )
        expect(page.get_by_text("replay").first).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()  # the session comes back from its refresh cookie
    expect(quotes.locator(".quote-price")).to_have_count(3, timeout=TIMEOUT_MS)
    screenshot(page, "markets-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways page scroll
    assert_accessible(page)


def test_symbol_chart_candles_indicators_and_the_largest_set(
    page: Page, live_server: LiveServer
) -> None:
    with api_client(live_server, live_server.demo) as client:
        coverage = {
            symbol: client.get(f"/instruments/{symbol}").json()["data"]["coverage"][0]
            for symbol in DEMO_SYMBOLS
        }
    sign_in(page, live_server.demo)
    open_route(page, "markets/GOOG")
    chart = page.get_by_role("img", name=re.compile(r"GOOG 1d candles"))
    expect(chart).to_have_attribute("data-bars", str(coverage["GOOG"]["bars"]), timeout=TIMEOUT_MS)
    assert chart.locator("canvas").count() > 0
    expect(
        page.get_by_text(re.compile(r"\d+ of your fills"))
    ).to_be_visible()  # the demo's paper fills

    # SMA on the price pane and RSI in a pane of its own, computed by GET /indicators.
    page.get_by_label("SMA 20").check()
    page.get_by_label("RSI 14").check()
    expect(chart).to_have_attribute("data-overlays", "1", timeout=TIMEOUT_MS)
    expect(chart).to_have_attribute("data-panes", "1", timeout=TIMEOUT_MS)
    expect(page).to_have_url(re.compile(r"ind=sma%2Crsi|ind=sma,rsi"))
    legend = page.locator("figcaption.legend")
    expect(legend).to_contain_text("SMA 20")
    expect(legend).to_contain_text("RSI 14")
    page.get_by_label("SMA 20").uncheck()
    expect(chart).to_have_attribute("data-overlays", "0", timeout=TIMEOUT_MS)
    page.get_by_label("SMA 20").check()
    expect(chart).to_have_attribute("data-overlays", "1", timeout=TIMEOUT_MS)
    # The selected (latest active) signal's target and stop are listed with it.
    expect(page.get_by_role("button", pressed=True)).to_have_count(1)
    screenshot(page, "markets-chart")
    assert_accessible(page)
    page.emulate_media(color_scheme="dark")
    expect(chart).to_have_attribute("data-bars", str(coverage["GOOG"]["bars"]))
    screenshot(page, "markets-dark")
    assert_accessible(page)
    page.emulate_media(color_scheme="light")

    # A replay of GOOG's 2013 bars: the chart goes back to the replayed bar, then grows bar by
    # bar from the bars stream, and the header's last price follows.
    total = str(coverage["GOOG"]["bars"])
    price = page.locator(".quote-head .quote-price")
    before = price.get_attribute("data-price") or ""
    with running_replay(live_server, "GOOG", "1d", "2013-01-02", speed=5):
        expect(page.get_by_role("status").filter(has_text="Market replay")).to_be_visible(
            timeout=TIMEOUT_MS
        )
        expect(chart).not_to_have_attribute("data-bars", total, timeout=TIMEOUT_MS)
        replayed = chart.get_attribute("data-bars") or ""
        assert int(replayed) < int(total)
        expect(chart).not_to_have_attribute("data-bars", replayed, timeout=TIMEOUT_MS)
        assert int(replayed) < int(chart.get_attribute("data-bars") or "0") < int(total)
        expect(price).not_to_have_attribute("data-price", before, timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Show all bars").click()
    expect(chart).to_have_attribute("data-bars", total, timeout=TIMEOUT_MS)

    # The largest demo set, every bar the API gives (limit 100,000): time to drawn, printed.
    largest = max(DEMO_SYMBOLS, key=lambda s: coverage[s]["bars"])
    timeframe = coverage[largest]["timeframe"]
    started = time.perf_counter()
    open_route(page, f"markets/{largest}?tf={timeframe}&bars=100000")
    big = page.get_by_role("img", name=re.compile(f"{largest} {timeframe} candles"))
    expect(big).to_have_attribute("data-bars", str(coverage[largest]["bars"]), timeout=TIMEOUT_MS)
    elapsed = time.perf_counter() - started
    bars = coverage[largest]["bars"]
    print(f"\n{largest} {timeframe}: {bars} bars drawn {elapsed:.3f} s after navigation")
