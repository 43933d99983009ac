// Candle charts on TradingView Lightweight Charts v5 (vendored, an ES module).
//
// <CandleChart bars overlays panes markers priceLines height handle label />
//   bars       [{time (epoch s), open, high, low, close, volume}]  (toChartBars(answer) makes them)
//   overlays   [{name, points: [{time, value}], color}]            lines on the price pane
//   panes      [{name, series: [{name, points, color, type: "line" | "histogram"}]}]  RSI, MACD...
//   markers    [{time, position, shape, color, text}]              signals, fills
//   priceLines [{price, color, title}]                             target / stop
//   handle     a ref: handle.current = {update(bar), chart} for live bars and quotes
// The container carries data-bars="N" once N bars are drawn (tests and timing read it).
// Colours come from the CSS variables (theme.js) and follow a light/dark switch; the chart
// resizes with its container (autoSize: a ResizeObserver inside the library).
import { CandlestickSeries, createChart, createSeriesMarkers, HistogramSeries, LineSeries } from "../vendor/lightweight-charts.mjs";
import { html, useEffect, useRef } from "./lib.js";
import { alpha, useTheme } from "./theme.js";

const PANE_HEIGHT = 130;
const VISIBLE_BARS = 300;

/** ISO-8601 string or epoch seconds -> epoch seconds (the chart's time unit). */
export function toTime(value) {
  return typeof value === "number" ? value : Math.floor(Date.parse(value) / 1000);
}

/**
 * `GET /bars/{symbol}` answer -> chart bars. `format=columns` (epoch seconds by default) is the
 * fast one for 100,000 bars: plain arrays, no date parsing; rows (`{ts, open, ...}`) work too.
 */
export function toChartBars(answer) {
  const data = answer?.data ?? answer;
  if (Array.isArray(data)) {
    return data.map((r) => ({ time: toTime(r.ts), open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume }));
  }
  const { t = [], o, h, l, c, v } = data ?? {};
  const unix = typeof t[0] === "number";
  const bars = new Array(t.length);
  for (let i = 0; i < t.length; i++) {
    bars[i] = { time: unix ? t[i] : toTime(t[i]), open: o[i], high: h[i], low: l[i], close: c[i], volume: v ? v[i] : 0 };
  }
  return bars;
}

/** Decimals to show for a price: 5 under 10 (FX), else 2. */
export function priceDigits(price) {
  return Math.abs(Number(price)) < 10 ? 5 : 2;
}

/** Points with null values (indicator warm-up) become whitespace: a gap, not a zero. */
function linePoints(points) {
  return points.map((p) => (p.value === null || p.value === undefined ? { time: p.time } : p));
}

/** The time of the last bar at or before `time` (markers must sit on a bar). */
function snap(times, time) {
  let lo = 0;
  let hi = times.length - 1;
  if (hi < 0 || time < times[0]) return null;
  if (hi > 0 && time >= times[hi] + (times[hi] - times[hi - 1])) return null; // after the last bar
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid] <= time) lo = mid;
    else hi = mid - 1;
  }
  return times[lo];
}

/** The palette and axes every chart shares (lines.js draws its line charts with it too). */
export function chartOptions(colors) {
  return {
    layout: {
      background: { type: "solid", color: colors.panel },
      textColor: colors.text,
      attributionLogo: false, // credited in the page footer
      panes: { separatorColor: colors.border },
    },
    grid: { vertLines: { color: colors.grid }, horzLines: { color: colors.grid } },
    rightPriceScale: { borderColor: colors.border },
    timeScale: { borderColor: colors.border, timeVisible: true },
  };
}

export function CandleChart({ bars, overlays = [], panes = [], markers = [], priceLines = [], height = 420, handle, label = "Price chart" }) {
  const box = useRef(null);
  const parts = useRef(null); // {chart, candles, volume, markers, extra: [], lines: [], times: [], last}
  const colors = useTheme();

  useEffect(() => {
    const chart = createChart(box.current, { autoSize: true, ...chartOptions(colors) });
    const candles = chart.addSeries(CandlestickSeries, { priceLineVisible: true });
    const volume = chart.addSeries(HistogramSeries, { priceScaleId: "volume", priceFormat: { type: "volume" }, lastValueVisible: false, priceLineVisible: false });
    volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    parts.current = { chart, candles, volume, markers: createSeriesMarkers(candles, []), extra: [], lines: [], times: [], last: null };
    if (handle) {
      handle.current = {
        chart,
        /** A live bar (or a quote as {time, close}): updates the last candle or appends one.
         *  False when the bar is older than the chart's last one (nothing drawn). */
        update(bar) {
          const p = parts.current;
          if (!p || (p.last !== null && bar.time < p.last)) return false;
          const prev = p.last === bar.time ? p.current : null;
          const next = {
            time: bar.time,
            open: bar.open ?? prev?.open ?? bar.close,
            high: Math.max(bar.high ?? bar.close, prev?.high ?? -Infinity),
            low: Math.min(bar.low ?? bar.close, prev?.low ?? Infinity),
            close: bar.close,
          };
          p.candles.update(next);
          if (bar.volume !== undefined) p.volume.update({ time: bar.time, value: bar.volume });
          if (bar.time !== p.last) {
            p.times.push(bar.time);
            box.current.dataset.bars = String(p.times.length);
          }
          p.last = bar.time;
          p.current = next;
          return true;
        },
      };
    }
    return () => {
      chart.remove();
      parts.current = null;
      if (handle) handle.current = null;
    };
  }, []);

  useEffect(() => {
    const p = parts.current;
    p.chart.applyOptions(chartOptions(colors));
    p.candles.applyOptions({
      upColor: colors.up, downColor: colors.down, borderUpColor: colors.up, borderDownColor: colors.down,
      wickUpColor: colors.up, wickDownColor: colors.down,
    });
    p.volume.applyOptions({ color: alpha(colors.muted, 0.35) });
  }, [colors]);

  useEffect(() => {
    const p = parts.current;
    const el = box.current;
    delete el.dataset.bars;
    p.candles.setData(bars);
    const digits = priceDigits(bars.length ? bars[bars.length - 1].close : 100);
    p.priceFormat = { type: "price", precision: digits, minMove: 10 ** -digits };
    p.candles.applyOptions({ priceFormat: p.priceFormat });
    p.times = bars.map((b) => b.time);
    p.last = bars.length ? bars[bars.length - 1].time : null;
    p.current = bars.length ? bars[bars.length - 1] : null;
    if (bars.length > VISIBLE_BARS) p.chart.timeScale().setVisibleLogicalRange({ from: bars.length - VISIBLE_BARS, to: bars.length + 3 });
    else p.chart.timeScale().fitContent();
    // The library paints on the next animation frame; this callback runs after that paint.
    // Volume follows once the candles are up: on 100,000 bars its setData costs about half
    // as much again as the candles', and nobody reads volume before price.
    let later = 0;
    const frame = requestAnimationFrame(() => {
      el.dataset.bars = String(parts.current?.times.length ?? bars.length); // live bars may have joined
      later = setTimeout(() => parts.current?.volume.setData(bars.map((b) => ({ time: b.time, value: b.volume ?? 0 }))));
    });
    return () => {
      cancelAnimationFrame(frame);
      clearTimeout(later);
    };
  }, [bars]);

  useEffect(() => {
    const p = parts.current;
    for (const series of p.extra) p.chart.removeSeries(series);
    p.extra = [];
    const line = { lineWidth: 1, priceLineVisible: false, lastValueVisible: false, crosshairMarkerVisible: false };
    for (const overlay of overlays) {
      const series = p.chart.addSeries(LineSeries, { ...line, color: overlay.color ?? colors.accent, title: overlay.name, priceFormat: p.priceFormat }, 0);
      series.setData(linePoints(overlay.points));
      p.extra.push(series);
    }
    panes.forEach((pane, i) => {
      for (const s of pane.series) {
        const type = s.type === "histogram" ? HistogramSeries : LineSeries;
        const options = s.type === "histogram" ? { color: s.color ?? colors.muted, priceLineVisible: false, lastValueVisible: false } : { ...line, color: s.color ?? colors.accent };
        const series = p.chart.addSeries(type, { ...options, title: s.name }, i + 1);
        series.setData(linePoints(s.points));
        p.extra.push(series);
      }
    });
    box.current.dataset.overlays = String(overlays.length);
    box.current.dataset.panes = String(panes.length);
    // Heights by stretch factor: the price pane keeps `height`, each extra pane PANE_HEIGHT.
    p.chart.panes().forEach((pane, i) => pane.setStretchFactor(i === 0 ? height / PANE_HEIGHT : 1));
  }, [overlays, panes, colors, height]);

  useEffect(() => {
    const p = parts.current;
    const placed = [];
    for (const m of markers) {
      const time = snap(p.times, m.time);
      if (time !== null) placed.push({ ...m, time });
    }
    placed.sort((a, b) => a.time - b.time);
    p.markers.setMarkers(placed);
  }, [markers, bars]);

  useEffect(() => {
    const p = parts.current;
    for (const line of p.lines) p.candles.removePriceLine(line);
    p.lines = priceLines.map((l) => p.candles.createPriceLine({ price: l.price, color: l.color, title: l.title, lineWidth: 1, lineStyle: 2, axisLabelVisible: true }));
  }, [priceLines]);

  const names = [...overlays.map((o) => [o.name, o.color]), ...panes.flatMap((pane) => pane.series.map((s) => [s.name, s.color]))];
  return html`<figure class="candle-chart">
    <div ref=${box} class="chart" role="img" aria-label=${`${label}, ${bars.length} bars`}
      style=${{ height: `${height + PANE_HEIGHT * panes.length}px` }}></div>
    ${names.length ? html`<figcaption class="legend small">${names.map(
      ([name, color]) => html`<span><span class="swatch" style=${{ background: color }} aria-hidden="true"></span>${name}</span>`,
    )}</figcaption>` : null}
  </figure>`;
}
