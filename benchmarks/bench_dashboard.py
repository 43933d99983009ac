"""The dashboard in headless Chromium: first meaningful paint of the markets page and the time
to draw 100,000 candles on the symbol page, against the bare charting library drawing the
same bars on a blank page, measured in the same run. Writes its section of docs/benchmarks.md.

The server is a real `quantdesk serve` on a fresh demo database (tests/support/live_server.py,
the e2e tests' server) with 100,000 one-minute bars of a synthetic BENCH instrument ingested
through `quantdesk ingest csv`. Chromium is Debian's (`QUANTDESK_CHROMIUM` or /usr/bin).
Each figure is the median of ROUNDS fresh browser contexts (cold page, warm server).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from playwright.sync_api import Browser, Page, sync_playwright
from tests.support.browser import find_chromium
from tests.support.live_server import QUANTDESK, LiveServer, running_live_server, server_env

from benchmarks._docs import (
    load_average,
    markdown_table,
    platform_parts,
    render_section,
    report,
)

SECTION_START = "<!-- bench:dashboard:start -->"
SECTION_END = "<!-- bench:dashboard:end -->"
HEADER = ("measurement", "quantdesk", "reference", "ratio", "bar", "result")
BARS = 100_000
SYMBOL = "BENCH"
ROUNDS = 5
CHART_BAR_MS = 1_500.0  # the bar for 100k bars
PAINT_BAR_MS = 1_500.0  # each page loads and renders within 1.5 s

# The reference: the same bars from the same API, drawn by lightweight-charts alone (candles
# and a volume histogram, as the dashboard draws them) on an otherwise empty page.
BLANK_PAGE = """<!doctype html><html><head><meta charset="utf-8"></head>
<body style="margin:0"><div id="chart" style="width:1280px;height:420px"></div>
<script type="module">
import {
  createChart, CandlestickSeries, HistogramSeries,
} from "/app/vendor/lightweight-charts.mjs";
const url = "/api/v1/bars/%s?timeframe=1m&limit=%d&format=columns";
const { data } = await (await fetch(url)).json();
const n = data.t.length, candles = new Array(n), volume = new Array(n);
const unix = typeof data.t[0] === "number";
for (let i = 0; i < n; i++) {
  const time = unix ? data.t[i] : Date.parse(data.t[i]) / 1000;
  candles[i] = { time, open: data.o[i], high: data.h[i], low: data.l[i], close: data.c[i] };
  volume[i] = { time, value: data.v[i] };
}
const chart = createChart(document.getElementById("chart"), { autoSize: true });
chart.addSeries(CandlestickSeries).setData(candles);
chart.addSeries(HistogramSeries, { priceScaleId: "" }).setData(volume);
requestAnimationFrame(() => { document.body.dataset.bars = String(n); });
</script></body></html>"""


def write_bars(path: Path) -> None:
    """BARS one-minute bars of a seeded random walk, as the CSV `quantdesk ingest` reads."""
    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, BARS)))
    open_ = np.concatenate([[100.0], close[:-1]])
    spread = np.abs(rng.normal(0, 0.0008, BARS)) * close
    start = 1_700_000_000
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["timestamp", "open", "high", "low", "close", "volume"])
        for i in range(BARS):
            high = max(open_[i], close[i]) + spread[i]
            low = min(open_[i], close[i]) - spread[i]
            volume = int(rng.integers(100, 10_000))
            writer.writerow(
                [
                    start + 60 * i,
                    f"{open_[i]:.4f}",
                    f"{high:.4f}",
                    f"{low:.4f}",
                    f"{close[i]:.4f}",
                    volume,
                ]
            )


def ingest(server: LiveServer, workdir: Path) -> None:
    path = workdir / "bench.csv"
    write_bars(path)
    env = server_env(server.database_url, 0)
    subprocess.run(
        [
            *QUANTDESK,
            "ingest",
            "csv",
            str(path),
            "--symbol",
            SYMBOL,
            "--timeframe",
            "1m",
            "--name",
            "Benchmark random walk",
            "--exchange",
            "BENCH",
            "--asset-class",
            "crypto",
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )


def _since_navigation(page: Page) -> float:
    return float(page.evaluate("performance.now()"))


def markets_paint(browser: Browser, base_url: str) -> tuple[float, float]:
    """(first contentful paint, quotes shown) in ms from navigation start, guest visitor."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{base_url}/app/#/markets")
        page.wait_for_selector("main table tbody tr td", timeout=30_000)
        shown = _since_navigation(page)
        fcp = page.evaluate(
            "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"
        )
        return float(fcp or shown), shown
    finally:
        context.close()


def chart_render(browser: Browser, base_url: str) -> float:
    """ms from navigation start until the dashboard's chart reports BARS bars drawn."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{base_url}/app/#/markets/{SYMBOL}?tf=1m&bars={BARS}")
        page.wait_for_selector(f"[data-bars='{BARS}']", timeout=60_000)
        return _since_navigation(page)
    finally:
        context.close()


def bare_render(browser: Browser, base_url: str) -> float:
    """The same bars drawn by lightweight-charts alone on a blank page (same origin)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        blank = f"{base_url}/bench-blank.html"
        page.route(
            blank,
            lambda route: route.fulfill(body=BLANK_PAGE % (SYMBOL, BARS), content_type="text/html"),
        )
        page.goto(blank)
        page.wait_for_selector(f"body[data-bars='{BARS}']", timeout=60_000)
        return _since_navigation(page)
    finally:
        context.close()


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def measure(workdir: Path) -> tuple[list[tuple[str, ...]], list[str]]:
    executable = find_chromium()
    if executable is None:
        raise SystemExit("no chromium: apt-get install chromium (or set QUANTDESK_CHROMIUM)")
    with running_live_server(workdir / "server") as server, sync_playwright() as playwright:
        ingest(server, workdir)
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            # One warm-up of each (server caches, Chromium's code cache), then ROUNDS each.
            markets_paint(browser, server.base_url)
            chart_render(browser, server.base_url)
            bare_render(browser, server.base_url)
            paints = [markets_paint(browser, server.base_url) for _ in range(ROUNDS)]
            ours = [chart_render(browser, server.base_url) for _ in range(ROUNDS)]
            bare = [bare_render(browser, server.base_url) for _ in range(ROUNDS)]
        finally:
            browser.close()
    fcp, shown = median([p[0] for p in paints]), median([p[1] for p in paints])
    chart, reference = median(ours), median(bare)
    rows: list[tuple[str, ...]] = [
        (
            "markets page: first contentful paint (ms)",
            f"{fcp:.0f}",
            "-",
            "-",
            f"<= {PAINT_BAR_MS:.0f}",
            _verdict(fcp <= PAINT_BAR_MS),
        ),
        (
            "markets page: live quotes shown (ms)",
            f"{shown:.0f}",
            "-",
            "-",
            f"<= {PAINT_BAR_MS:.0f}",
            _verdict(shown <= PAINT_BAR_MS),
        ),
        (
            f"symbol page: {BARS:,} candles drawn (ms)",
            f"{chart:.0f}",
            f"{reference:.0f}",
            f"{chart / reference:.2f}x",
            f"<= {CHART_BAR_MS:.0f}",
            _verdict(chart <= CHART_BAR_MS),
        ),
    ]
    notes = [
        f"Medians of {ROUNDS} fresh browser contexts after one warm-up; samples (ms): "
        f"paint {[round(p[1]) for p in paints]}, chart {[round(x) for x in ours]}, "
        f"reference {[round(x) for x in bare]}.",
        "Times run from navigation start (`performance.now()` in the page) to: the first "
        "contentful paint; the watchlist table's first quote row; the chart container's "
        "`data-bars` attribute, set in the frame after `setData`.",
    ]
    return rows, notes


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


METHOD = (
    "The dashboard figure includes everything a visitor waits for: the shell's modules, the "
    "instrument lookup, the bars request (JSON columns) and its conversion, then the candles, "
    "the volume pane and the signal markers. The reference page fetches the same JSON from "
    "the same server and draws candles and volume with lightweight-charts alone, so the "
    "ratio is the dashboard's overhead over the bare library."
)


def section(rows: Sequence[tuple[str, ...]], notes: Sequence[str], info: str) -> str:
    return render_section(
        SECTION_START,
        SECTION_END,
        title="Dashboard",
        command="`python -m benchmarks.bench_dashboard`",
        info=info,
        table=markdown_table(HEADER, rows),
        notes=notes,
        method=METHOD,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    begun = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="quantdesk-bench-dashboard-") as folder:
        rows, notes = measure(Path(folder))
    info = ", ".join(
        [*platform_parts(), f"Chromium headless, load average after the run {load_average()}"]
    )
    failed = report(
        rows,
        notes,
        header=HEADER,
        info=info,
        begun=begun,
        section=section,
        start=SECTION_START,
        end=SECTION_END,
        write=not args.no_docs,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
