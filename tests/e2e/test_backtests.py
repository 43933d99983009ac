"""The Backtests page in a real browser against the real server and demo data, signed in as a
fresh user: a run from the form shows its stats, equity and drawdown curves, trades (table and
markers on the candles); the API's 422 shows next to the field it names; a sweep draws its
heatmap."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.browser import assert_accessible
from tests.support.e2e_pages import TIMEOUT_MS, field_message, open_route, shot, sign_in
from tests.support.live_server import LiveServer


def test_a_backtest_from_the_form_shows_stats_curves_and_trades(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, live_server.user)
    open_route(page, "backtests")
    form = page.locator("form", has=page.get_by_role("heading", name="New backtest"))
    expect(form.get_by_label("Strategy")).to_have_value("sma_cross")
    expect(page.get_by_text("No backtest yet")).to_be_visible()  # a fresh user's empty list

    # The API refuses fast >= slow per parameter; the message sits at the form, nothing queued.
    form.get_by_label("Fast", exact=True).fill("0")
    form.get_by_role("button", name="Run backtest").click()
    expect(form.locator(".field-error").first).to_be_visible(timeout=TIMEOUT_MS)
    assert "greater than or equal to 1" in field_message(page, "Fast")
    assert page.get_by_label("Fast", exact=True).get_attribute("aria-invalid") == "true"
    shot(page, "backtests")
    assert_accessible(page)

    # A model-level 422 ("body": start after end) shows at To.
    form.get_by_label("Fast", exact=True).fill("10")
    form.get_by_label("From", exact=True).fill("2012-06-01")
    form.get_by_label("To", exact=True).fill("2012-01-01")
    form.get_by_role("button", name="Run backtest").click()
    expect(form.locator(".field-error")).to_have_count(1, timeout=TIMEOUT_MS)
    assert field_message(page, "To") == "start must not be after end"
    assert field_message(page, "Fast") == ""
    form.get_by_label("From", exact=True).fill("")
    form.get_by_label("To", exact=True).fill("")

    form.get_by_label("Slow", exact=True).fill("20")
    form.get_by_label("Commission (fraction per side)").fill("0.001")
    form.get_by_role("button", name="Run backtest").click()
    expect(page).to_have_url(re.compile(r"#/backtests/[0-9a-f]+$"), timeout=TIMEOUT_MS)

    stats = page.get_by_label("Statistics")
    expect(stats).to_contain_text("Final equity", timeout=TIMEOUT_MS)
    expect(
        page.get_by_role(
            "heading", name=re.compile(r"Backtest sma_cross\(fast=10, slow=20\) on GOOG 1d")
        )
    ).to_be_visible()
    trades_heading = page.get_by_role("heading", name=re.compile(r"Trades \(\d+\)"))
    expect(trades_heading).to_be_visible(timeout=TIMEOUT_MS)
    count = int(re.findall(r"\d+", trades_heading.inner_text())[0])
    assert count > 10  # SMA(10)/SMA(20) on nine years of GOOG trades dozens of times
    expect(stats).to_contain_text(f"Trades{count}")  # the table holds the run's trades
    first = page.locator("section", has=trades_heading).locator("tbody tr").first
    expect(first).to_contain_text("long")
    # Equity and drawdown curves drawn from every equity point; candles with the trade markers.
    for name in ("Equity curve", "Drawdown curve"):
        chart = page.get_by_role("img", name=re.compile(name))
        expect(chart).to_have_attribute(
            "data-points", re.compile(r"^[1-9]\d+$"), timeout=TIMEOUT_MS
        )
    candles = page.get_by_role("img", name=re.compile("GOOG 1d with the run's trades"))
    expect(candles).to_have_attribute("data-bars", re.compile(r"^[1-9]\d+$"), timeout=TIMEOUT_MS)
    shot(page, "backtest-result")
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})
    expect(candles).to_have_attribute("data-bars", re.compile(r"^[1-9]\d+$"))
    shot(page, "backtest-result-phone")
    assert_accessible(page)
    # The run is listed, completed, with its final equity.
    final = stats.locator("div", has_text="Final equity").locator("dd").inner_text()
    page.get_by_role("link", name="← All backtests").click()
    runs = page.locator("section", has=page.get_by_role("heading", name="Your runs"))
    expect(runs.locator("tbody tr")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(runs.locator("tbody tr").first).to_contain_text("completed")
    expect(runs.locator("tbody tr").first).to_contain_text(final)


def test_a_sweep_draws_its_heatmap(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server.user)
    open_route(page, "backtests")
    page.get_by_role("tab", name="Sweep").click()
    form = page.locator("form", has=page.get_by_role("heading", name=re.compile("Parameter sweep")))
    # A range whose start is after its stop: the API names grid.slow, shown under that axis.
    form.get_by_label("slow start").fill("100")
    form.get_by_label("slow stop").fill("20")
    form.get_by_role("button", name="Run sweep").click()
    axis = form.locator("fieldset", has_text="Slow period range")
    expect(axis.locator(".field-error")).to_have_text(
        "start must not be after stop", timeout=TIMEOUT_MS
    )
    expect(form.get_by_role("alert")).to_have_count(0)  # placed at its field, not repeated

    for which, values in (("fast", ("5", "15", "5")), ("slow", ("20", "60", "20"))):
        for part, value in zip(("start", "stop", "step"), values, strict=True):
            form.get_by_label(f"{which} {part}").fill(value)
    form.get_by_label("Rank by").select_option("total_return_pct")
    form.get_by_role("button", name="Run sweep").click()
    expect(page).to_have_url(re.compile(r"#/backtests/[0-9a-f]+$"), timeout=TIMEOUT_MS)

    heatmap = page.locator("table.heatmap")
    expect(heatmap).to_be_visible(timeout=TIMEOUT_MS)
    expect(heatmap.locator("tbody tr")).to_have_count(3)  # fast 5, 10, 15
    expect(heatmap.locator("thead th")).to_have_count(4)  # the corner + slow 20, 40, 60
    cells = heatmap.locator("tbody td").all_inner_texts()
    assert len(cells) == 9
    assert all(re.fullmatch(r"-?[\d,]+\.\d\d", v) for v in cells)  # every fast < slow pair
    expect(
        page.get_by_role("heading", name="Best 9 of 9 pairs by total_return_pct")
    ).to_be_visible()
    shot(page, "backtest-sweep")
    assert_accessible(page)
