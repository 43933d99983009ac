// One run (#/backtests/<id>): progress while it is queued or running (polled, and reloaded
// at once on its `backtest_completed` frame, or any frame naming it), then its result:
// stats, equity and drawdown curves, the trades as markers on the symbol's candles and as a
// table; a sweep's heatmap and best pairs.
import { api, getAll } from "../api.js";
import { CandleChart, toChartBars, toTime } from "../chart.js";
import { html, useEffect, useMemo, useState } from "../lib.js";
import { Heatmap, LineChart } from "../lines.js";
import { useLive } from "../live.js";
import { href } from "../router.js";
import { useTheme } from "../theme.js";
import { ErrorNote, Loaded, Table, day, num, sign, useApi, when } from "../ui.js";

const STATS = [
  ["equity_final", "Final equity", (v) => num(v)],
  ["total_return_pct", "Return", (v) => `${num(v)} %`],
  ["buy_hold_return_pct", "Buy & hold", (v) => `${num(v)} %`],
  ["cagr_pct", "CAGR", (v) => `${num(v)} %`],
  ["sharpe", "Sharpe", (v) => num(v)],
  ["sortino", "Sortino", (v) => num(v)],
  ["max_drawdown_pct", "Max drawdown", (v) => `${num(v)} %`],
  ["trades", "Trades", (v) => num(v, 0)],
  ["win_rate_pct", "Win rate", (v) => `${num(v, 1)} %`],
  ["profit_factor", "Profit factor", (v) => (v === "Infinity" ? "∞" : num(v))],
  ["exposure_pct", "Exposure", (v) => `${num(v, 1)} %`],
  ["commissions", "Commissions", (v) => num(v)],
];

const pctCell = (v) => html`<span class=${sign(v)}>${num(v)} %</span>`;
const TRADE_COLUMNS = [
  { key: "side", label: "Side" },
  { key: "entry_time", label: "Entry", render: (t) => day(t.entry_time) },
  { key: "entry_price", label: "Entry price", num: true, render: (t) => num(t.entry_price) },
  { key: "exit_time", label: "Exit", render: (t) => day(t.exit_time) },
  { key: "exit_price", label: "Exit price", num: true, render: (t) => num(t.exit_price) },
  { key: "units", label: "Units", num: true, render: (t) => num(t.units, 0) },
  { key: "pnl", label: "P&L", num: true, render: (t) => html`<span class=${sign(t.pnl)}>${num(t.pnl)}</span>` },
  { key: "return_pct", label: "Return", num: true, render: (t) => pctCell(t.return_pct) },
  { key: "exit_reason", label: "Exit reason" },
];

export function Stats({ stats }) {
  return html`<dl class="stats" aria-label="Statistics">${STATS.filter(([k]) => k in stats).map(
    ([k, label, fmt]) => html`<div><dt>${label}</dt><dd class=${k.endsWith("_pct") && k !== "max_drawdown_pct" ? sign(stats[k]) : ""}>${stats[k] === null ? "–" : fmt(stats[k])}</dd></div>`,
  )}</dl>`;
}

function Curves({ id }) {
  const state = useApi(() => api.get(`/backtests/${id}/equity`, { points: 1000 }), [id]);
  const colors = useTheme();
  const series = useMemo(() => {
    const e = state.data;
    if (!e) return null;
    const t = e.t.map(toTime);
    return {
      equity: [{ label: "Equity", points: t.map((x, i) => [x, e.equity[i]]), color: colors.accent }],
      drawdown: [{ label: "Drawdown %", points: t.map((x, i) => [x, -e.drawdown_pct[i]]), color: colors.down }],
    };
  }, [state.data, colors]);
  return html`<${Loaded} state=${state} render=${() => html`<div class="grid">
      <section aria-labelledby="bt-eq"><h3 id="bt-eq">Equity</h3>
        <${LineChart} series=${series.equity} yFormat=${fmtMoney} label="Equity curve" /></section>
      <section aria-labelledby="bt-dd"><h3 id="bt-dd">Drawdown</h3>
        <${LineChart} series=${series.drawdown} yFormat=${fmtPct} label="Drawdown curve" /></section>
    </div>`} />`;
}

const fmtMoney = (v) => num(v, 0);
const fmtPct = (v) => `${num(v, 1)} %`;

function TradesChart({ run, trades }) {
  const colors = useTheme();
  const bars = useApi(
    () => api.get(`/bars/${encodeURIComponent(run.symbol)}`, { timeframe: run.timeframe, start: run.bars.first, end: run.bars.last, format: "columns", limit: Math.min(run.bars.count, 100000) }),
    [run.id],
  );
  const open = run.open_position;
  const markers = useMemo(() => trades.concat(open ? [{ ...open, open: true }] : []).flatMap((t) => {
    if (t.open) return [{ time: toTime(t.entry_time), position: t.side === "long" ? "belowBar" : "aboveBar", shape: t.side === "long" ? "arrowUp" : "arrowDown", color: colors.accent, text: "open" }];
    const long = t.side === "long";
    return [
      { time: toTime(t.entry_time), position: long ? "belowBar" : "aboveBar", shape: long ? "arrowUp" : "arrowDown", color: colors.accent, text: long ? "buy" : "short" },
      { time: toTime(t.exit_time), position: long ? "aboveBar" : "belowBar", shape: "circle", color: t.pnl >= 0 ? colors.up : colors.down, text: `${num(t.return_pct, 1)}%` },
    ];
  }), [trades, colors]);
  const chartBars = useMemo(() => (bars.data ? toChartBars(bars.data) : []), [bars.data]);
  return html`<${Loaded} state=${bars} render=${() => html`<${CandleChart} bars=${chartBars} markers=${markers} label=${`${run.symbol} ${run.timeframe} with the run's trades`} />`} />`;
}

function Trades({ run }) {
  const state = useApi(() => getAll(`/backtests/${run.id}/trades`, { limit: 500 }, 5000), [run.id]);
  const [shown, setShown] = useState(50);
  return html`<${Loaded} state=${state} list=${(d) => d} empty="The strategy made no closed trade in this range." render=${(trades) => html`
    <section class="card" aria-labelledby="bt-chart"><h2 id="bt-chart">Trades on the chart</h2><${TradesChart} run=${run} trades=${trades} /></section>
    <section class="card" aria-labelledby="bt-trades"><h2 id="bt-trades">Trades (${trades.length})</h2>
      <${Table} columns=${TRADE_COLUMNS} rows=${trades.slice(0, shown)} rowKey=${(t) => t.entry_bar} />
      ${trades.length > shown ? html`<button type="button" onClick=${() => setShown(shown + 100)}>Show more trades</button>` : null}
    </section>`} />`;
}

function Sweep({ run }) {
  const { heatmap, results, rank_by: rank } = run.sweep;
  const columns = [
    { key: "fast", label: "Fast", num: true },
    { key: "slow", label: "Slow", num: true },
    ...["sharpe", "total_return_pct", "max_drawdown_pct", "trades", "win_rate_pct"].map((k) => ({ key: k, label: k, num: true, render: (r) => num(r[k], k === "trades" ? 0 : 2) })),
  ];
  return html`<section class="card" aria-labelledby="sw-heat"><h2 id="sw-heat">${heatmap.metric} by ${heatmap.y_param} (rows) and ${heatmap.x_param} (columns)</h2>
      <${Heatmap} x=${heatmap.x} y=${heatmap.y} z=${heatmap.z} xLabel=${heatmap.x_param} yLabel=${heatmap.y_param} format=${(v) => num(v, 2)}
        caption=${`${heatmap.metric} of each ${heatmap.y_param}/${heatmap.x_param} pair; – where ${heatmap.y_param} >= ${heatmap.x_param}`} /></section>
    <section class="card" aria-labelledby="sw-best"><h2 id="sw-best">Best ${Math.min(10, results.length)} of ${results.length} pairs by ${rank}</h2>
      <${Table} columns=${columns} rows=${results.slice(0, 10)} rowKey=${(r) => `${r.fast}-${r.slow}`} /></section>`;
}

function Progress({ run }) {
  return html`<div class="bt-progress" role="status">
    <label for="bt-progress">${run.status === "queued" ? "Queued" : "Running"}: ${num(run.progress * 100, 0)} %${run.chunks_total ? ` (${run.chunks_done ?? 0} of ${run.chunks_total} chunks)` : ""}</label>
    <progress id="bt-progress" max="1" value=${run.progress}></progress>
  </div>`;
}

function describe(run) {
  const range = (v) => (Array.isArray(v) ? v.join("/") : `${v.start}–${v.stop} step ${v.step ?? 1}`);
  const params = Object.entries(run.params).map(([k, v]) => `${k}=${typeof v === "object" ? range(v) : v}`).join(", ");
  return `${run.strategy}(${params})`;
}

export function RunView({ id }) {
  const state = useApi(() => api.get(`/backtests/${id}`), [id]);
  const run = state.data;
  const active = run && ["queued", "running"].includes(run.status);
  useEffect(() => {
    if (!active) return undefined;
    const timer = setTimeout(state.reload, 1000);
    return () => clearTimeout(timer);
  }, [run]);
  useLive("jobs", null, (frame) => {
    if (active && (frame.type === "gap" || frame.data?.backtest_id === id)) state.reload();
  });
  return html`<p><a href=${href("backtests")}>← All backtests</a></p>
    <${Loaded} state=${state} render=${(r) => html`
      <section class="card" aria-labelledby="bt-title">
        <h1 id="bt-title">${r.kind === "sweep" ? "Sweep" : "Backtest"} ${describe(r)} on ${r.symbol} ${r.timeframe}</h1>
        <p class="muted small">${r.bars ? `${r.bars.count} bars, ${day(r.bars.first)} to ${day(r.bars.last)} · ` : ""}cash ${num(r.request.cash)} ·
          commission ${num(r.request.commission * 100, 2)} % · slippage ${num(r.request.slippage_bps, 1)} bps · fill ${r.request.fill} · created ${when(r.created_at)}</p>
        ${active ? html`<${Progress} run=${r} />` : null}
        ${r.status === "failed" ? html`<${ErrorNote} error=${{ message: `The run failed: ${r.error}` }} />` : null}
        ${r.status === "completed" && r.stats ? html`<${Stats} stats=${r.stats} />` : null}
      </section>
      ${r.status === "completed" && r.kind !== "sweep" ? html`<section class="card" aria-label="Equity and drawdown"><${Curves} id=${r.id} /></section><${Trades} run=${r} />` : null}
      ${r.status === "completed" && r.sweep ? html`<${Sweep} run=${r} />` : null}`} />`;
}
