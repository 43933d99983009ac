// Research: market summary and movers, the screener, FX comparison, news with sentiment and
// the symbol report, one tab each (#/research?tab=...). Every tab reads the public API.
import { api } from "../api.js";
import { html, useState } from "../lib.js";
import { navigate } from "../router.js";
import { DataAge, Empty, ErrorNote, Field, Loaded, Table, Tabs, day, num, sign, useApi } from "../ui.js";
import Screener from "./research-screener.js";
import Fx from "./research-fx.js";
import Report from "./research-report.js";

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
