// Research: market summary and movers, the screener, FX comparison, news with sentiment and
// the symbol report, one tab each (#/research?tab=...). Every tab reads the public API.
import { api } from "../api.js";
import { html, useMemo, useState } from "../lib.js";
import { LineChart } from "../lines.js";
import { navigate } from "../router.js";
import { DataAge, Empty, ErrorNote, Field, Loaded, Table, Tabs, day, num, sign, useApi, useForm } from "../ui.js";
import { Report, Screener } from "./research-tools.js";

const TABS = [
  ["market", "Market"],
  ["screener", "Screener"],
  ["fx", "FX"],
  ["news", "News"],
  ["report", "Report"],
];
// market.refresh runs every 15 minutes: older than two runs is worth saying.
const MARKET_TTL = 1800;

/** change_pct fields are percent already (0.62 means 0.62%). */
export const pctOf = (value) => (value === null || value === undefined ? "–" : `${num(value)}%`);
export const signed = (value, text) => html`<span class=${sign(value)}>${text}</span>`;

function Summary() {
  const state = useApi(() => api.get("/market/summary"), []);
  return html`<section class="card" aria-labelledby="summary-h">
    <div class="spread"><h2 id="summary-h">Summary by asset class</h2>
      ${state.data ? html`<${DataAge} asOf=${state.data.meta.refreshed_at} ttlSeconds=${MARKET_TTL} />` : null}</div>
    <${Loaded} state=${state} empty="No market snapshot yet."
      render=${(d) => html`<${Table} rowKey=${(r) => r.asset_class} rows=${d.data} columns=${[
        { key: "asset_class", label: "Asset class" },
        { key: "as_of", label: "Session" },
        { key: "instruments", label: "Instruments", num: true },
        { key: "gainers", label: "Gainers", num: true, render: (r) => html`<span class="up">${r.gainers}</span>` },
        { key: "losers", label: "Losers", num: true, render: (r) => html`<span class="down">${r.losers}</span>` },
        { key: "average_change_pct", label: "Avg change", num: true,
          render: (r) => signed(r.average_change_pct, pctOf(r.average_change_pct)) },
        { key: "turnover", label: "Turnover", num: true, render: (r) => num(r.turnover, 0) },
      ]} />`} />
  </section>`;
}

function Movers() {
  const [kind, setKind] = useState("gainers");
  const [assetClass, setAssetClass] = useState("");
  const state = useApi(
    () => api.get("/market/movers", { kind, asset_class: assetClass, limit: 20 }),
    [kind, assetClass],
  );
  return html`<section class="card" aria-labelledby="movers-h">
    <h2 id="movers-h">Movers</h2>
    <div class="row">
      <${Field} label="Kind"><select value=${kind} onChange=${(e) => setKind(e.target.value)}>
        <option value="gainers">Top gainers</option><option value="losers">Top losers</option>
        <option value="active">Most active</option></select><//>
      <${Field} label="Asset class"><select value=${assetClass} onChange=${(e) => setAssetClass(e.target.value)}>
        <option value="">All</option>
        ${["equity", "fx", "crypto", "index", "fund"].map((c) => html`<option value=${c}>${c}</option>`)}</select><//>
    </div>
    <${Loaded} state=${state} empty="No movers in the last session."
      render=${(d) => html`<${Table} caption=${`Movers: ${kind}`} rowKey=${(r) => r.symbol} rows=${d.data}
        onRow=${(r) => navigate(`markets/${r.symbol}`)} columns=${[
          { key: "rank", label: "#", num: true },
          { key: "symbol", label: "Symbol", render: (r) => html`<a href=${`#/markets/${encodeURIComponent(r.symbol)}`}>${r.symbol}</a>` },
          { key: "name", label: "Name" },
          { key: "as_of", label: "Session" },
          { key: "price", label: "Price", num: true, render: (r) => num(r.price) },
          { key: "change_pct", label: "Change", num: true, render: (r) => signed(r.change_pct, pctOf(r.change_pct)) },
          { key: "volume", label: "Volume", num: true, render: (r) => num(r.volume, 0) },
        ]} />`} />
  </section>`;
}

function Sectors() {
  const state = useApi(() => api.get("/market/sectors"), []);
  return html`<section class="card" aria-labelledby="sectors-h">
    <h2 id="sectors-h">Sectors</h2>
    <${Loaded} state=${state} empty="No sector data."
      render=${(d) => html`<${Table} rowKey=${(r) => r.sector} rows=${d.data} columns=${[
        { key: "sector", label: "Sector" },
        { key: "instruments", label: "Instruments", num: true },
        { key: "average_change_pct", label: "Avg change", num: true,
          render: (r) => signed(r.average_change_pct, pctOf(r.average_change_pct)) },
        { key: "market_cap", label: "Market cap", num: true, render: (r) => num(r.market_cap, 0) },
      ]} />`} />
  </section>`;
}

function Market() {
  return html`<div class="grid"><${Summary} /><${Sectors} /></div><${Movers} />`;
}

function Sentiment({ value }) {
  if (!value) return html`<span class="muted">not scored</span>`;
  const cls = value.label === "positive" ? "up" : value.label === "negative" ? "down" : "";
  return html`<span class=${`tag ${cls}`} title=${`model ${value.model}`}>${value.label} ${num(value.score, 2)}</span>`;
}

function News({ query }) {
  const [symbol, setSymbol] = useState(query.symbol || "");
  const [filter, setFilter] = useState(query.symbol || "");
  const [more, setMore] = useState({ items: [], cursor: null, error: null });
  const state = useApi(() => api.get("/news", { symbol: filter, limit: 25 }), [filter]);
  const items = state.data ? [...state.data.data, ...more.items] : [];
  const cursor = more.cursor ?? state.data?.meta?.next_cursor;
  function apply(event) {
    event.preventDefault();
    setMore({ items: [], cursor: null, error: null });
    setFilter(symbol.trim().toUpperCase());
  }
  async function loadMore() {
    try {
      const page = await api.get("/news", { symbol: filter, limit: 25, cursor });
      setMore((m) => ({ items: [...m.items, ...page.data], cursor: page.meta.next_cursor || "", error: null }));
    } catch (error) {
      setMore((m) => ({ ...m, error }));
    }
  }
  const problem = state.error?.fields?.symbol;
  return html`<section class="card" aria-labelledby="news-h">
    <h2 id="news-h">News</h2>
    <form class="row" onSubmit=${apply}>
      <${Field} label="Symbol" error=${problem} hint="e.g. GOOG; empty for all">
        <input value=${symbol} onInput=${(e) => setSymbol(e.target.value)} autocomplete="off" /><//>
      <button type="submit">Filter</button>
    </form>
    ${problem ? null : html`<${Loaded} state=${state} empty=${filter ? `No news tagged ${filter}.` : "No news stored."}
      render=${() => html`<ul class="news">${items.map((n) => html`<li key=${n.id}>
          <div class="spread"><a href=${n.url} rel="noopener noreferrer" target="_blank">${n.title}</a>
            <${Sentiment} value=${n.sentiment} /></div>
          <p class="muted small">${day(n.published_at)} · ${n.source} · ${n.symbols.join(", ") || "no symbol"}</p>
          ${n.summary ? html`<p class="small">${n.summary}</p>` : null}
        </li>`)}</ul>
        ${cursor ? html`<button type="button" onClick=${loadMore}>More news</button>` : null}
        <${ErrorNote} error=${more.error} />`} />`}
  </section>`;
}

// FX: one pair across every stored source (GET /fx/compare), each source's mid over the last
// twelve months as lines (the same endpoint asked for month ends), and the converter
// (GET /fx/convert, Decimal strings).
const MONTHS = 12;

/** Month ends before `latest` (YYYY-MM-DD), oldest first, then `latest` itself. */
function monthEnds(latest) {
  const dates = [];
  const base = new Date(`${latest}T00:00:00Z`);
  for (let back = MONTHS - 1; back >= 1; back--) {
    dates.push(new Date(Date.UTC(base.getUTCFullYear(), base.getUTCMonth() - back + 1, 0)).toISOString().slice(0, 10));
  }
  dates.push(latest);
  return dates;
}

async function history(pair, latest) {
  const answers = await Promise.all(
    monthEnds(latest).map((date) => api.get("/fx/compare", { pair, date }).catch(() => null)),
  );
  const bySource = new Map();
  for (const answer of answers) {
    for (const s of answer?.data.sources || []) {
      if (s.mid === null) continue;
      if (!bySource.has(s.source)) bySource.set(s.source, new Map());
      bySource.get(s.source).set(s.as_of, s.mid); // a source that did not publish repeats its day
    }
  }
  return [...bySource].map(([label, points]) => ({ label, points: [...points].sort() }));
}

const PALETTE = ["--accent", "--up", "--warn", "--down"];

function History({ pair, latest }) {
  const state = useApi(() => history(pair, latest), [pair, latest]);
  const series = useMemo(() => {
    const style = getComputedStyle(document.documentElement);
    const colour = (i) => style.getPropertyValue(PALETTE[i % PALETTE.length]).trim();
    return (state.data || []).map((s, i) => ({ ...s, color: colour(i) }));
  }, [state.data]);
  return html`<h3>${pair}, month ends over ${MONTHS} months</h3>
    <${Loaded} state=${state} list=${(d) => d} empty="No history for this pair."
      render=${() => html`<${LineChart} series=${series} height=${240} label=${`${pair} mid by source`}
        yFormat=${(v) => num(v, 4)} />`} />`;
}

const best = (b) => (b ? `${b.source} at ${num(b.rate, 4)} (${b.as_of})` : "– (no source quotes buy/sell)");

function Compare({ initial }) {
  const [pair, setPair] = useState(initial);
  const [date, setDate] = useState("");
  const [asked, setAsked] = useState({ pair: initial, date: "" });
  const state = useApi(() => api.get("/fx/compare", asked), [asked.pair, asked.date]);
  const fields = state.error?.fields || {};
  const d = state.data?.data;
  const latest = d?.sources.reduce((m, s) => (s.as_of > m ? s.as_of : m), "");
  return html`<section class="card" aria-labelledby="fx-compare-h">
    <h2 id="fx-compare-h">Compare sources</h2>
    <form class="row" onSubmit=${(e) => (e.preventDefault(), setAsked({ pair: pair.trim(), date }))} novalidate>
      <${Field} label="Pair" error=${fields.pair} hint="BASE/QUOTE, e.g. USD/MAD">
        <input value=${pair} onInput=${(e) => setPair(e.target.value)} autocomplete="off" /><//>
      <${Field} label="Date" error=${fields.date} hint="Rates in force that day">
        <input type="date" value=${date} onInput=${(e) => setDate(e.target.value)} /><//>
      <button type="submit" class="primary">Compare</button>
    </form>
    ${Object.keys(fields).length ? null : html`<${Loaded} state=${state} list=${(r) => r?.data.sources}
      empty=${`No stored rate for ${asked.pair}.`}
      render=${() => html`
        <${Table} caption=${`${d.pair} by source`} rowKey=${(s) => s.source} rows=${d.sources} columns=${[
          { key: "source", label: "Source" },
          { key: "as_of", label: "Published" },
          { key: "mid", label: "Mid", num: true, render: (s) => num(s.mid, 4) },
          { key: "buy", label: "Buy", num: true, render: (s) => num(s.buy, 4) },
          { key: "sell", label: "Sell", num: true, render: (s) => num(s.sell, 4) },
          { key: "spread_bps", label: "Spread (bps)", num: true, render: (s) => num(s.spread_bps, 1) },
          { key: "route", label: "Route" },
        ]} />
        <p class="small">Best place to buy: <strong>${best(d.best_buy)}</strong> ·
          to sell: <strong>${best(d.best_sell)}</strong> · mid dispersion ${num(d.mid_dispersion_bps, 1)} bps</p>
        ${d.notes.length ? html`<ul class="muted small">${d.notes.map((n) => html`<li>${n}</li>`)}</ul>` : null}
        ${latest ? html`<${History} pair=${d.pair} latest=${latest} />` : null}`} />`}
    ${Object.keys(fields).length ? html`<${ErrorNote} error=${state.error} />` : null}
  </section>`;
}

function Convert() {
  const form = useForm({ from: "USD", to: "JPY", amount: "1000", date: "" });
  const [result, setResult] = useState(null);
  async function submit(event) {
    event.preventDefault();
    const answer = await form.submit((v) => api.get("/fx/convert", v));
    setResult(answer?.data ?? null);
  }
  const other = form.error && !Object.keys(form.error.fields).length;
  return html`<section class="card" aria-labelledby="fx-convert-h">
    <h2 id="fx-convert-h">Convert</h2>
    <form class="row" onSubmit=${submit} novalidate>
      <${Field} label="Amount" error=${form.fieldError("amount")}><input inputmode="decimal" ...${form.bind("amount")} /><//>
      <${Field} label="From" error=${form.fieldError("from")}><input size="4" ...${form.bind("from")} /><//>
      <${Field} label="To" error=${form.fieldError("to")}><input size="4" ...${form.bind("to")} /><//>
      <${Field} label="Date" error=${form.fieldError("date")}><input type="date" ...${form.bind("date")} /><//>
      <button type="submit" class="primary" disabled=${form.busy}>Convert</button>
    </form>
    ${other ? html`<${ErrorNote} error=${form.error} />` : null}
    ${result ? html`<p class="fx-result" role="status"><strong>${result.amount} ${result.from} = ${result.converted} ${result.to}</strong>
        <span class="muted small"> · rate ${result.rate} · ${result.route}</span></p>
      <${Table} caption="Rates used" rowKey=${(l) => l.pair} rows=${result.legs} columns=${[
        { key: "pair", label: "Leg" },
        { key: "rate", label: "Rate", num: true },
        { key: "published_pair", label: "Published as", render: (l) => `${l.published_pair} ${l.published_rate}${l.inverted ? " (inverted)" : ""}` },
        { key: "source", label: "Source" },
        { key: "as_of", label: "Published" },
      ]} />
      ${result.notes.length ? html`<ul class="muted small">${result.notes.map((n) => html`<li>${n}</li>`)}</ul>` : null}`
    : html`<${Empty}>Enter an amount and two ISO currency codes.<//>`}
  </section>`;
}

function Fx({ query }) {
  return html`<${Compare} initial=${query.pair || "EUR/USD"} /><${Convert} />`;
}

export default function Research({ query, user }) {
  const tab = TABS.some(([t]) => t === query.tab) ? query.tab : "market";
  const body = {
    market: () => html`<${Market} />`,
    screener: () => html`<${Screener} />`,
    fx: () => html`<${Fx} query=${query} />`,
    news: () => html`<${News} query=${query} />`,
    report: () => (user
      ? html`<${Report} query=${query} />`
      : html`<${Empty}>Sign in to read a symbol's research report.<//>`),
  }[tab];
  return html`<section class="pg">
    <h1>Research</h1>
    <${Tabs} label="Research sections" tabs=${TABS} current=${tab}
      onChange=${(next) => navigate("research", { tab: next })} />
    <div role="tabpanel" aria-label=${TABS.find(([t]) => t === tab)[1]}>${body()}</div>
  </section>`;
}
