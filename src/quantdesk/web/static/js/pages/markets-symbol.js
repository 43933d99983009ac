// The symbol view (#/markets/GOOG?tf=1d&bars=5000&ind=sma,rsi): last quote (live), timeframe
// switch, candles with indicator overlays and panes computed by GET /indicators, the symbol's
// signals as markers (target/stop of the selected one as price lines) and the signed-in
// user's fills. Live bars from the bars stream update the last candle.
import { api, getAll } from "../api.js";
import { CandleChart, priceDigits, toChartBars, toTime } from "../chart.js";
import { html, useEffect, useMemo, useRef, useState } from "../lib.js";
import { useLive } from "../live.js";
import { href, navigate } from "../router.js";
import { useTheme } from "../theme.js";
import { ConnectionBadge, DataAge, ErrorNote, Field, Loading, num, sign, Table, Tabs, useApi, when } from "../ui.js";
import { QuoteCells, useQuotes } from "./markets.js";

const TIMEFRAMES = ["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "1M"];
const BAR_LIMITS = [["500", "500"], ["5000", "5,000"], ["100000", "all (up to 100,000)"]];
// Toggle -> indicator spec (GET /indicators `set`), where it is drawn, and its output columns.
const INDICATORS = {
  sma: { label: "SMA 20", spec: "sma:20", lines: [["sma_20", "SMA 20", "accent"]] },
  ema: { label: "EMA 50", spec: "ema:50", lines: [["ema_50", "EMA 50", "warn"]] },
  bbands: { label: "Bollinger 20, 2", spec: "bbands:20:2", lines: [["bbands_upper_20_2", "BB upper", "muted"], ["bbands_middle_20_2", "BB middle", "muted"], ["bbands_lower_20_2", "BB lower", "muted"]] },
  rsi: { label: "RSI 14", spec: "rsi:14", pane: "RSI 14", lines: [["rsi_14", "RSI 14", "accent"]] },
  macd: { label: "MACD 12, 26, 9", spec: "macd:12:26:9", pane: "MACD", lines: [["macd_12_26_9", "MACD", "accent"], ["macd_signal_12_26_9", "signal", "warn"], ["macd_hist_12_26_9", "histogram", "muted", "histogram"]] },
};

/** The timeframes the API can answer: the stored ones and every coarser one (resampled). */
function timeframesOf(instrument) {
  const stored = (instrument?.coverage ?? []).map((c) => c.timeframe);
  if (!stored.length) return TIMEFRAMES;
  const finest = Math.min(...stored.map((tf) => TIMEFRAMES.indexOf(tf)));
  return TIMEFRAMES.slice(finest);
}

function useIndicators(symbol, tf, chosen, count) {
  const specs = chosen.map((name) => INDICATORS[name].spec).join(",");
  return useApi(async () => {
    if (!specs || !count) return null;
    const answer = await api.get(`/indicators/${encodeURIComponent(symbol)}`, { set: specs, timeframe: tf, limit: count });
    const times = answer.data.t.map(toTime);
    const column = (name) => answer.data[name].map((value, i) => ({ time: times[i], value }));
    return { specs: answer.meta.set ?? specs.split(","), column };
  }, [symbol, tf, specs, count]);
}

function chartLayers(indicators, chosen, colors) {
  const overlays = [];
  const panes = [];
  if (!indicators) return { overlays, panes };
  for (const name of chosen) {
    const def = INDICATORS[name];
    if (!indicators.specs.includes(def.spec)) continue; // toggled on while its answer is on the way
    const series = def.lines.map(([key, label, color, type]) => ({ name: label, points: indicators.column(key), color: colors[color], type }));
    if (def.pane) panes.push({ name: def.pane, series });
    else overlays.push(...series);
  }
  return { overlays, panes };
}

function signalMarkers(signals, strategy, colors) {
  return signals
    .filter((s) => !strategy || s.strategy === strategy)
    .map((s) => {
      const long = s.direction === "LONG";
      return { time: toTime(s.source_bar_at), position: long ? "belowBar" : "aboveBar", shape: long ? "arrowUp" : "arrowDown", color: long ? colors.up : colors.down, text: long ? "L" : "S" };
    });
}

function fillMarkers(fills, colors) {
  return fills.map((f) => ({ time: toTime(f.market_time), position: "inBar", shape: "circle", color: colors.accent, text: `${f.side === "buy" ? "B" : "S"} ${num(f.qty, 0)}` }));
}

async function loadFills(user, symbol) {
  if (!user) return [];
  const accounts = await getAll("/accounts");
  const pages = await Promise.all(accounts.map((a) => getAll(`/accounts/${a.id}/fills`, { symbol, limit: 500 })));
  return pages.flat();
}

function SignalTable({ signals, selected, onSelect }) {
  const columns = [
    { key: "created_at", label: "Created", render: (s) => html`<button type="button" class="link" aria-pressed=${s.id === selected?.id} onClick=${() => onSelect(s)}>${when(s.created_at).slice(0, 16)}</button>` },
    { key: "strategy", label: "Strategy" },
    { key: "direction", label: "Side", render: (s) => html`<span class=${s.direction === "LONG" ? "up" : "down"}>${s.direction}</span>` },
    { key: "entry", label: "Entry", num: true, render: (s) => num(s.entry, priceDigits(s.entry)) },
    { key: "target", label: "Target", num: true, render: (s) => num(s.target, priceDigits(s.target)) },
    { key: "stop", label: "Stop", num: true, render: (s) => num(s.stop, priceDigits(s.stop)) },
    { key: "status", label: "Status", render: (s) => html`<span class="tag">${s.status}</span>` },
  ];
  return html`<${Table} caption="Recent signals (select one to draw its target and stop)" columns=${columns} rows=${signals.slice(0, 12)} />`;
}

export default function SymbolView({ symbol, query, user }) {
  const colors = useTheme();
  const instrument = useApi(() => api.get(`/instruments/${encodeURIComponent(symbol)}`), [symbol]);
  const frames = timeframesOf(instrument.data?.data);
  const tf = query.tf || instrument.data?.data.coverage?.[0]?.timeframe;
  const limit = query.bars || "5000";
  const chosen = (query.ind ?? "").split(",").filter((name) => name in INDICATORS);
  const go = (changes) => navigate(`markets/${symbol}`, Object.fromEntries(Object.entries({ tf, bars: limit, ind: chosen.join(","), ...changes }).filter(([, v]) => v)));

  // A market replay goes back in time: the chart then ends at the replayed bar and grows with it.
  const [replayEnd, setReplayEnd] = useState(null);
  const pending = useRef([]); // replayed bars that arrived while the shorter history was loading
  const end = replayEnd === null ? undefined : new Date(replayEnd * 1000).toISOString();
  const bars = useApi(async () => (tf ? toChartBars(await api.get(`/bars/${encodeURIComponent(symbol)}`, { timeframe: tf, limit, end, format: "columns" })) : null), [symbol, tf, limit, end]);
  const indicators = useIndicators(symbol, tf, chosen, bars.data?.length);
  const signals = useApi(() => (tf ? api.get("/signals", { symbol, timeframe: tf, limit: 200 }) : Promise.resolve(null)), [symbol, tf]);
  const fills = useApi(() => loadFills(user, symbol), [user?.id, symbol]);
  const [strategy, setStrategy] = useState("composite");
  const [selected, setSelected] = useState(null);
  const quotes = useQuotes([symbol]);
  const quote = quotes[symbol];
  const chart = useRef(null);

  useLive("bars", symbol, (frame) => {
    if (frame.type === "gap") return bars.reload();
    const d = frame.data;
    if (frame.type !== "bar" || d.timeframe !== tf) return;
    const bar = { time: d.ts, open: d.open, high: d.high, low: d.low, close: d.close, volume: d.volume };
    if (chart.current?.update(bar)) return;
    if (d.source !== "replay") return;
    if (replayEnd === null || d.ts < replayEnd) {
      pending.current = [];
      setReplayEnd(d.ts);
    } else pending.current.push(bar);
  });
  useEffect(() => {
    for (const bar of pending.current) chart.current?.update(bar);
    pending.current = [];
  }, [bars.data]);
  useLive("signals", symbol, (frame) => {
    if (frame.type === "gap") return signals.reload();
    const d = frame.data;
    if (frame.type === "new_signal" && d.timeframe === tf) {
      const row = { ...d, id: d.signal_id, source_bar_at: new Date(d.source_ts * 1000).toISOString(), created_at: frame.timestamp, status: "active" };
      signals.setData((old) => old && { ...old, data: [row, ...old.data.filter((s) => s.id !== row.id)] });
    } else if (frame.type === "signal_closed") {
      signals.setData((old) => old && { ...old, data: old.data.map((s) => (s.id === d.signal_id ? { ...s, ...d, id: s.id } : s)) });
    }
  });

  const list = signals.data?.data ?? [];
  const strategies = [...new Set(list.map((s) => s.strategy))].sort();
  const active = selected ?? list.find((s) => s.status === "active") ?? null;
  const layers = useMemo(() => chartLayers(indicators.data, chosen, colors), [indicators.data, chosen.join(), colors]);
  const markers = useMemo(
    () => [...signalMarkers(list, strategy, colors), ...fillMarkers(fills.data ?? [], colors)],
    [signals.data, fills.data, strategy, colors],
  );
  const priceLines = useMemo(
    () => (active ? [
      { price: active.entry, color: colors.accent, title: "entry" },
      { price: active.target, color: colors.up, title: "target" },
      { price: active.stop, color: colors.down, title: "stop" },
    ] : []),
    [active, colors],
  );

  const detail = instrument.data?.data;
  return html`<section class="symbol-view">
    <p class="small"><a href=${href("markets")}>← Markets</a></p>
    <div class="spread quote-head">
      <div>
        <h1>${symbol} <span class="muted small">${detail?.name ?? ""}</span></h1>
        ${quote && !quote.error ? html`<p class="last">
          <strong class="big"><${QuoteCells} quote=${quote} /></strong> ${detail?.currency ?? ""}
          <span class=${sign(quote.change)}> ${num(quote.change, 2)} (${num(quote.change_pct, 2)}%)</span>
          ${quote.live ? html` <span class="tag">${quote.source === "replay" ? "replay" : "live"}</span>` : html` <${DataAge} asOf=${quote.as_of} ttlSeconds=${30} />`}
        </p>` : null}
      </div>
      <${ConnectionBadge} />
    </div>
    <${ErrorNote} error=${instrument.error} />
    <div class="card">
      <${Tabs} label="Timeframe" tabs=${frames.map((f) => [f, f])} current=${tf} onChange=${(value) => go({ tf: value })} />
      <div class="row chart-controls">
        <fieldset class="toggles"><legend>Indicators</legend>
          ${Object.entries(INDICATORS).map(([name, def]) => html`<label><input type="checkbox" name=${name} checked=${chosen.includes(name)}
            onChange=${(e) => go({ ind: (e.target.checked ? [...chosen, name] : chosen.filter((n) => n !== name)).join(",") })} /> ${def.label}</label>`)}
        </fieldset>
        <${Field} label="Bars"><select value=${limit} onChange=${(e) => go({ bars: e.target.value })}>
          ${BAR_LIMITS.map(([value, text]) => html`<option value=${value}>${text}</option>`)}</select><//>
        <${Field} label="Signal markers"><select value=${strategy} onChange=${(e) => setStrategy(e.target.value)}>
          <option value="">all strategies</option>${strategies.map((s) => html`<option value=${s}>${s}</option>`)}</select><//>
      </div>
      ${bars.error ? html`<${ErrorNote} error=${bars.error} />` : null}
      ${indicators.error ? html`<${ErrorNote} error=${indicators.error} />` : null}
      ${bars.data ? html`<${CandleChart} bars=${bars.data} overlays=${layers.overlays} panes=${layers.panes} markers=${markers}
          priceLines=${priceLines} handle=${chart} label=${`${symbol} ${tf} candles`} />`
        : bars.error ? null : html`<${Loading} what="Loading bars" />`}
      ${replayEnd === null ? null : html`<p class="small" role="status">Market replay: bars up to the replayed time.
        <button type="button" class="small" onClick=${() => setReplayEnd(null)}>Show all bars</button></p>`}
      <p class="muted small">${bars.data ? `${bars.data.length.toLocaleString()} bars` : ""}${fills.data?.length ? ` · ${fills.data.length} of your fills (circles)` : ""} · arrows: signal entries (L long, S short)</p>
    </div>
    <div class="card">
      ${signals.error ? html`<${ErrorNote} error=${signals.error} />`
        : list.length ? html`<${SignalTable} signals=${list} selected=${active} onSelect=${setSelected} />`
        : html`<p class="muted">No signals for ${symbol} ${tf} yet.</p>`}
      <p class="small"><a href=${href("signals", { symbol })}>All ${symbol} signals →</a></p>
    </div>
  </section>`;
}
