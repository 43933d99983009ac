// Line charts on lightweight-charts (the library the candles use: one charting library, not
// two, keeps the JavaScript within its 150 KB budget) and a heatmap drawn as a table.
//
// <LineChart series=[{label, points: [[t, v], ...], color}] height yFormat label />
//   t: epoch seconds or ISO-8601; each series keeps its own times (sorted, one value per
//   time); a null value is a gap. Resizes with its container; colours follow light/dark; the
//   legend is HTML under the canvas, so screen readers and the keyboard reach it.
// <Heatmap x y z xLabel yLabel format caption onCell />
//   z[row][col] for y[row], x[col]: a real table (screen readers read the numbers), each cell
//   tinted from --down (lowest) to --up (highest), its value in a title tooltip too.
import { createChart, LineSeries } from "../vendor/lightweight-charts.mjs";
import { chartOptions } from "./chart.js";
import { html, useEffect, useRef } from "./lib.js";
import { useTheme } from "./theme.js";

const toTime = (t) => (typeof t === "number" ? t : Date.parse(t) / 1000);
const PALETTE = ["accent", "up", "down", "warn", "muted"];

function lineData(points) {
  const byTime = new Map();
  for (const [t, v] of points) {
    const time = Math.floor(toTime(t));
    byTime.set(time, v === null || v === undefined ? { time } : { time, value: Number(v) });
  }
  return [...byTime.values()].sort((a, b) => a.time - b.time);
}

export function LineChart({ series, height = 260, yFormat = (v) => String(v), label = "Line chart" }) {
  const box = useRef(null);
  const colors = useTheme();
  const colorOf = (s, i) => s.color ?? colors[PALETTE[i % PALETTE.length]];
  useEffect(() => {
    const el = box.current;
    const chart = createChart(el, {
      autoSize: true,
      ...chartOptions(colors),
      localization: { priceFormatter: (v) => yFormat(v) },
    });
    series.forEach((s, i) => {
      const line = chart.addSeries(LineSeries, { color: colorOf(s, i), lineWidth: 2, title: s.label, priceLineVisible: false });
      line.setData(lineData(s.points));
    });
    chart.timeScale().fitContent();
    el.dataset.points = String(series.reduce((n, s) => n + s.points.length, 0));
    return () => chart.remove();
  }, [series, height, colors]);
  return html`<figure class="line-chart">
    <div ref=${box} style=${{ height: `${height}px` }} role="img" aria-label=${`${label}: ${series.map((s) => s.label).join(", ")}`}></div>
    <figcaption class="legend small">${series.map(
      (s, i) => html`<span><span class="swatch" style=${{ background: colorOf(s, i) }}></span>${s.label}</span>`,
    )}</figcaption>
  </figure>`;
}

/** A background tint for value `t` in [0, 1]: red below the middle, green above. */
function tint(t) {
  if (!Number.isFinite(t)) return "transparent";
  const strength = Math.round(Math.abs(t - 0.5) * 2 * 45);
  return `color-mix(in srgb, var(${t < 0.5 ? "--down" : "--up"}) ${strength}%, var(--panel))`;
}

export function Heatmap({ x, y, z, xLabel = "", yLabel = "", format = (v) => String(v), caption, onCell }) {
  const values = z.flat().filter((v) => v !== null && v !== undefined && Number.isFinite(Number(v))).map(Number);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const scale = (v) => (max === min ? 0.5 : (Number(v) - min) / (max - min));
  return html`<div class="table-wrap"><table class="heatmap">
    ${caption ? html`<caption>${caption}</caption>` : null}
    <thead><tr><th scope="col">${yLabel} \\ ${xLabel}</th>${x.map((col) => html`<th scope="col" class="num">${col}</th>`)}</tr></thead>
    <tbody>${y.map(
      (row, r) => html`<tr><th scope="row">${row}</th>${x.map((col, c) => {
        const v = z[r]?.[c];
        const empty = v === null || v === undefined;
        const title = `${yLabel} ${row}, ${xLabel} ${col}: ${empty ? "no value" : format(v)}`;
        const body = empty ? "–" : format(v);
        return html`<td class="num" title=${title} style=${{ background: empty ? "" : tint(scale(v)) }}>${
          onCell && !empty ? html`<button type="button" class="cell" onClick=${() => onCell({ x: col, y: row, value: v })}>${body}</button>` : body
        }</td>`;
      })}</tr>`,
    )}</tbody>
  </table></div>`;
}
