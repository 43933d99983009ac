// Line charts on uPlot (window.uPlot, a classic script loaded by index.html) and a heatmap
// drawn as a table.
//
// <LineChart series=[{label, points: [[t, v], ...], color}] height yFormat label />
//   t: epoch seconds or ISO-8601; series with different times are aligned (uPlot.join), a
//   missing value is a gap. Resizes with its container; colours follow light/dark.
// <Heatmap x y z xLabel yLabel format caption onCell />
//   z[row][col] for y[row], x[col]: a real table (screen readers read the numbers), each cell
//   tinted from --down (lowest) to --up (highest), its value in a title tooltip too.
import { html, useEffect, useRef } from "./lib.js";
import { useTheme } from "./theme.js";

const toTime = (t) => (typeof t === "number" ? t : Date.parse(t) / 1000);

function aligned(series) {
  const tables = series.map((s) => {
    const xs = new Array(s.points.length);
    const ys = new Array(s.points.length);
    s.points.forEach(([t, v], i) => {
      xs[i] = toTime(t);
      ys[i] = v === null || v === undefined ? null : Number(v);
    });
    return [xs, ys];
  });
  if (tables.length === 1) return tables[0];
  return window.uPlot.join(tables);
}

export function LineChart({ series, height = 260, yFormat = (v) => String(v), label = "Line chart" }) {
  const box = useRef(null);
  const colors = useTheme();
  useEffect(() => {
    const el = box.current;
    const axis = { stroke: colors.text, grid: { stroke: colors.grid, width: 1 }, ticks: { stroke: colors.grid, width: 1 } };
    const plot = new window.uPlot(
      {
        width: el.clientWidth || 600,
        height,
        scales: { x: { time: true } },
        legend: { show: true },
        cursor: { drag: { x: true, y: false } },
        series: [
          { label: "time" },
          ...series.map((s) => ({ label: s.label, stroke: s.color ?? colors.accent, width: 1.5, spanGaps: false, value: (u, v) => (v === null ? "–" : yFormat(v)) })),
        ],
        axes: [axis, { ...axis, size: 70, values: (u, values) => values.map((v) => yFormat(v)) }],
      },
      aligned(series),
      el,
    );
    el.dataset.points = String(series.reduce((n, s) => n + s.points.length, 0));
    const observer = new ResizeObserver(() => {
      if (el.clientWidth) plot.setSize({ width: el.clientWidth, height });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [series, height, colors]);
  return html`<div ref=${box} class="line-chart" role="img" aria-label=${`${label}: ${series.map((s) => s.label).join(", ")}`}></div>`;
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
