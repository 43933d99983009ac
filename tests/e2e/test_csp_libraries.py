"""The vendored libraries work under the dashboard's Content-Security-Policy in real chromium:
a lightweight-charts candle chart (volume histogram, markers, crosshair), a second chart of
two line series (the dashboard's equity and FX lines) and a preact + htm component with style
props render without a single CSP violation or console error. This is what APP_CSP's
`style-src` without 'unsafe-inline' rests on: the libraries style elements through the CSSOM,
which CSP allows, and the one <style> element lightweight-charts adds (its attribution logo)
is allowed by its hash. The page is served by the real app (edge, headers, /app routes) from a
folder of the test's own, so it does not depend on the dashboard's pages."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser

from quantdesk.app import create_app
from quantdesk.http.headers import APP_CSP
from quantdesk.web import routes
from tests.support.browser import PageWatch, fail_on_problems, screenshot, watched_page
from tests.support.settings import make_settings, sqlite_url
from tests.support.thread_server import serving_in_thread
from tests.support.web_assets import require_vendor

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>charts under the CSP</title>
<link rel="icon" href="data:,">
<script type="module" src="js/charts.js"></script>
</head>
<body>
<main>
<h1>Charts</h1>
<div id="candles"></div>
<div id="line"></div>
<div id="ui"></div>
</main>
</body>
</html>
"""

CHARTS_JS = """
import {
  createChart, CandlestickSeries, HistogramSeries, LineSeries, createSeriesMarkers,
} from "../vendor/lightweight-charts.mjs";
import { html, render, useState } from "../vendor/preact-htm.mjs";

const days = Array.from({ length: 120 }, (_, i) => {
  const time = Math.floor(Date.UTC(2024, 0, 1) / 1000) + i * 86400;
  const open = 100 + 10 * Math.sin(i / 7);
  const close = open + 3 * Math.cos(i / 3);
  return { time, open, close, high: Math.max(open, close) + 2, low: Math.min(open, close) - 2 };
});

const chart = createChart(document.getElementById("candles"), {
  width: 640, height: 320, layout: { attributionLogo: true },
});
const candles = chart.addSeries(CandlestickSeries);
candles.setData(days);
const volume = chart.addSeries(HistogramSeries, {
  priceScaleId: "", priceFormat: { type: "volume" },
});
volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
volume.setData(days.map((d, i) => ({ time: d.time, value: 1000 + 10 * i })));
const closes = days.map((d) => ({ time: d.time, value: d.close }));
chart.addSeries(LineSeries, { color: "#2962ff" }).setData(closes);
createSeriesMarkers(candles, [
  { time: days[30].time, position: "belowBar", color: "#26a69a", shape: "arrowUp", text: "Buy" },
  { time: days[60].time, position: "aboveBar", color: "#ef5350", shape: "arrowDown", text: "Sell" },
]);
chart.timeScale().fitContent();

const lines = createChart(document.getElementById("line"), {
  width: 640, height: 240, layout: { attributionLogo: false },
});
lines.addSeries(LineSeries, { color: "#1e88e5", title: "equity" })
  .setData(days.map((d) => ({ time: d.time, value: d.close * 100 })));
lines.addSeries(LineSeries, { color: "#e53935", title: "drawdown" })
  .setData(days.map((d) => ({ time: d.time, value: d.low - d.high })));
lines.timeScale().fitContent();

function Panel() {
  const [count, setCount] = useState(0);
  return html`<section>
    <p style=${{ color: "rgb(200, 0, 0)", fontWeight: "bold" }}>object style</p>
    <p style="color: rgb(0, 120, 0)">string style</p>
    <button type="button" onClick=${() => setCount(count + 1)}>clicked ${count}</button>
  </section>`;
}
render(html`<${Panel} />`, document.getElementById("ui"));
document.body.dataset.ready = "yes";
"""


@pytest.fixture
def charts_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    require_vendor()
    static = tmp_path / "static"
    (static / "js").mkdir(parents=True)
    shutil.copytree(routes.STATIC_DIR / "vendor", static / "vendor")
    (static / "index.html").write_text(PAGE)
    (static / "js" / "charts.js").write_text(CHARTS_JS)
    monkeypatch.setattr(routes, "STATIC_DIR", static)
    return create_app(make_settings(sqlite_url(tmp_path / "unused.db")))


@pytest.fixture
def base_url(charts_app: FastAPI) -> Iterator[str]:
    with serving_in_thread(charts_app) as url:
        yield url


def test_charts_and_ui_render_under_the_app_csp(browser: Browser, base_url: str) -> None:
    watch = PageWatch()
    with watched_page(browser, base_url, watch) as page:
        response = page.goto("/app/")
        assert response is not None
        assert response.headers["content-security-policy"] == APP_CSP
        page.wait_for_selector("body[data-ready=yes]")
        assert page.locator("#candles canvas").count() > 0
        assert page.locator("#line canvas").count() > 0  # the line chart drew
        # The attribution logo, styled by lightweight-charts' own <style> (allowed by hash).
        logo = page.locator("#candles a#tv-attr-logo")
        assert logo.count() == 1
        assert logo.evaluate("a => getComputedStyle(a).position") == "absolute"
        box = page.locator("#candles").bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # crosshair
        page.mouse.move(box["x"] + box["width"] / 3, box["y"] + box["height"] / 3)
        line = page.locator("#line").bounding_box()
        assert line is not None
        page.mouse.move(line["x"] + line["width"] / 2, line["y"] + line["height"] / 2)  # legend
        page.get_by_role("button").click()
        assert page.get_by_role("button").inner_text() == "clicked 1"
        colors = page.eval_on_selector_all("#ui p", "ps => ps.map(p => getComputedStyle(p).color)")
        assert colors == ["rgb(200, 0, 0)", "rgb(0, 120, 0)"]  # both style forms applied
        screenshot(page, "csp-libraries")
        assert watch.problems() == [], "\n".join(watch.problems())
        # The control: an inline style attribute set from script is blocked and seen.
        page.evaluate("document.getElementById('candles').setAttribute('style', 'color: red')")
        for _ in range(100):
            if watch.csp_violations:
                break
            page.wait_for_timeout(50)
    inline = [v for v in watch.csp_violations if "style-src" in v]
    assert len(inline) == 1, watch.csp_violations  # only the deliberate setAttribute('style')
    watch.csp_violations.clear()
    watch.console_errors[:] = [e for e in watch.console_errors if "style-src" not in e]
    fail_on_problems(watch)
