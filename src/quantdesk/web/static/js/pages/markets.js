// Markets (#/markets): instrument search and the watchlist with live quotes; #/markets/GOOG is
// the symbol view (markets-symbol.js, loaded on first use). Everything comes from the public
// API: /instruments, /watchlists, /quotes/{symbol}, and the quotes + bars streams.
import { api, getAll } from "../api.js";
import { html, useEffect, useMemo, useState } from "../lib.js";
import { useLive } from "../live.js";
import { href } from "../router.js";
import { ConnectionBadge, DataAge, Empty, ErrorNote, Field, Loading, num, sign, Table, useApi, useForm } from "../ui.js";

export const GUEST_SYMBOLS = ["GOOG", "EURUSD", "BTCUSD"];
const QUOTE_TTL = 30; // seconds a cached quote is fresh (GET /quotes)
const ASSET_CLASSES = ["equity", "fx", "crypto", "index", "fund"];

/** Live quotes for `symbols`: one GET each, then the quotes and bars streams move the price. */
export function useQuotes(symbols) {
  const [quotes, setQuotes] = useState({});
  const key = symbols.join(",");
  const load = () =>
    symbols.forEach((symbol) =>
      api.get(`/quotes/${encodeURIComponent(symbol)}`).then(
        (answer) => setQuotes((q) => ({ ...q, [symbol]: { ...answer.data, meta: answer.meta } })),
        (error) => setQuotes((q) => ({ ...q, [symbol]: { error } })),
      ),
    );
  useEffect(load, [key]);
  const onFrame = (frame) => {
    if (frame.type === "gap") return load();
    const d = frame.data ?? {};
    const price = d.price ?? d.close;
    if (!d.symbol || price === undefined) return;
    setQuotes((q) => {
      const old = q[d.symbol] ?? {};
      const previous = old.previous_close;
      const change = previous ? price - previous : old.change;
      const asOf = d.ts ? new Date((typeof d.ts === "number" ? d.ts * 1000 : Date.parse(d.ts))).toISOString() : old.as_of;
      return {
        ...q,
        [d.symbol]: { ...old, price, change, change_pct: previous ? (change / previous) * 100 : old.change_pct, as_of: asOf, source: d.source ?? frame.type, live: frame.timestamp },
      };
    });
  };
  useLive("quotes", symbols, onFrame);
  useLive("bars", symbols, onFrame);
  return quotes;
}

/** Price, change and freshness of one quote; `live` quotes are as old as their frame. */
export function QuoteCells({ quote }) {
  if (!quote) return html`<span class="muted">…</span>`;
  if (quote.error) return html`<span class="muted" title=${quote.error.message}>unavailable</span>`;
  return html`<span class="quote-price" data-price=${quote.price}>${num(quote.price, quote.price < 10 ? 5 : 2)}</span>`;
}

function QuoteAge({ quote }) {
  if (!quote || quote.error) return null;
  if (quote.live) return html`<span class="tag">${quote.source === "replay" ? "replay" : "live"}</span>`;
  return html`<span class="tag" title="cache state of GET /quotes">${quote.meta?.cache}</span> <${DataAge} asOf=${quote.as_of} ttlSeconds=${QUOTE_TTL} />`;
}

function QuotesTable({ items, caption, onRemove }) {
  const symbols = items.map((item) => item.symbol);
  const quotes = useQuotes(symbols);
  const columns = [
    { key: "symbol", label: "Symbol", render: (r) => html`<a href=${href(`markets/${r.symbol}`)}>${r.symbol}</a>${r.note ? html`<div class="muted small">${r.note}</div>` : null}` },
    { key: "price", label: "Last", num: true, render: (r) => html`<${QuoteCells} quote=${quotes[r.symbol]} />` },
    { key: "pct", label: "Change %", num: true, render: (r) => html`<span class=${sign(quotes[r.symbol]?.change_pct)}>${num(quotes[r.symbol]?.change_pct, 2)}%</span>` },
    { key: "change", label: "Change", num: true, render: (r) => html`<span class=${sign(quotes[r.symbol]?.change)}>${num(quotes[r.symbol]?.change, 2)}</span>` },
    { key: "age", label: "Data", render: (r) => html`<${QuoteAge} quote=${quotes[r.symbol]} />` },
  ];
  if (onRemove) {
    columns.push({ key: "remove", label: html`<span class="sr-only">Remove</span>`, render: (r) => html`<button type="button" class="small danger" aria-label=${`Remove ${r.symbol} from the watchlist`} onClick=${() => onRemove(r.symbol)}>Remove</button>` });
  }
  return html`<div class="quotes"><${Table} caption=${caption} columns=${columns} rows=${items} rowKey=${(r) => r.symbol} /></div>`;
}

function Watchlist({ user, version }) {
  const lists = useApi(() => (user ? getAll("/watchlists") : Promise.resolve(null)), [user?.id, version]);
  const [chosen, setChosen] = useState(null);
  const id = chosen ?? lists.data?.[0]?.id;
  const detail = useApi(() => (id ? api.get(`/watchlists/${id}`) : Promise.resolve(null)), [id, version]);
  const form = useForm({ symbol: "" });
  if (!user) {
    return html`<section class="card" aria-labelledby="wl-title">
      <div class="spread"><h2 id="wl-title">Demo symbols</h2><${ConnectionBadge} /></div>
      <p class="muted small"><a href=${href("signin", { next: "markets" })}>Sign in</a> to keep your own watchlist.</p>
      <${QuotesTable} items=${GUEST_SYMBOLS.map((symbol) => ({ symbol }))} caption="Live quotes" />
    </section>`;
  }
  if (lists.loading && !lists.data) return html`<section class="card"><${Loading} /></section>`;
  if (lists.error) return html`<section class="card"><${ErrorNote} error=${lists.error} /></section>`;
  const create = () => form.submit(async () => {
    const created = await api.post("/watchlists", { name: "My watchlist", symbols: GUEST_SYMBOLS });
    lists.reload();
    setChosen(created.id);
  });
  if (!lists.data.length) {
    return html`<section class="card"><h2>Watchlist</h2>
      <${Empty}>You have no watchlist yet. Create one (it starts with the demo symbols) and add symbols from the search.<//>
      <button type="button" class="primary" onClick=${create} disabled=${form.busy}>Create a watchlist</button>
      <${ErrorNote} error=${form.error} /></section>`;
  }
  const items = detail.data?.items ?? [];
  const add = (event) => {
    event.preventDefault();
    form.submit(async ({ symbol }) => {
      await api.post(`/watchlists/${id}/symbols`, { symbol: symbol.trim().toUpperCase() });
      form.setValues({ symbol: "" });
      detail.reload();
    });
  };
  const remove = (symbol) =>
    form.submit(async () => {
      await api.del(`/watchlists/${id}/symbols/${encodeURIComponent(symbol)}`);
      detail.reload();
    });
  return html`<section class="card" aria-labelledby="wl-title">
    <div class="spread"><h2 id="wl-title">${detail.data?.name ?? "Watchlist"}</h2><${ConnectionBadge} /></div>
    <div class="row">
      ${lists.data.length > 1
        ? html`<${Field} label="Watchlist"><select value=${id} onChange=${(e) => setChosen(e.target.value)}>
            ${lists.data.map((w) => html`<option value=${w.id}>${w.name}</option>`)}</select><//>`
        : null}
      <form class="row" onSubmit=${add} aria-label="Add a symbol">
        <${Field} label="Add symbol" error=${form.fieldError("symbol")}><input ...${form.bind("symbol")} placeholder="e.g. GOOG" autocomplete="off" required /><//>
        <button type="submit" disabled=${form.busy}>Add</button>
      </form>
    </div>
    ${form.error && !form.fieldError("symbol") ? html`<${ErrorNote} error=${form.error} />` : null}
    ${detail.loading && !detail.data ? html`<${Loading} />`
      : items.length ? html`<${QuotesTable} items=${items} caption="Live quotes" onRemove=${remove} />`
      : html`<${Empty}>This watchlist is empty: add a symbol above or from the search.<//>`}
  </section>`;
}

function Search({ user, onAdded }) {
  const [q, setQ] = useState("");
  const [assetClass, setAssetClass] = useState("");
  const [debounced, setDebounced] = useState("");
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(q.trim()), 250);
    return () => clearTimeout(timer);
  }, [q]);
  const results = useApi(() => api.get("/instruments", { q: debounced, asset_class: assetClass, limit: 50 }), [debounced, assetClass]);
  const [added, setAdded] = useState(null);
  const addToWatchlist = async (symbol) => {
    const lists = await getAll("/watchlists");
    const target = lists[0] ?? (await api.post("/watchlists", { name: "My watchlist" }));
    await api.post(`/watchlists/${target.id}/symbols`, { symbol });
    setAdded(`${symbol} is on ${target.name}.`);
    onAdded();
  };
  const columns = [
    { key: "symbol", label: "Symbol", render: (r) => html`<a href=${href(`markets/${r.symbol}`)}>${r.symbol}</a>` },
    { key: "name", label: "Name" },
    { key: "exchange", label: "Exchange" },
    { key: "asset_class", label: "Class" },
  ];
  if (user) {
    columns.push({ key: "add", label: html`<span class="sr-only">Watchlist</span>`, render: (r) => html`<button type="button" class="small" aria-label=${`Add ${r.symbol} to the watchlist`} onClick=${() => addToWatchlist(r.symbol).catch((e) => setAdded(e.message))}>+ Watchlist</button>` });
  }
  return html`<section class="card" aria-labelledby="search-title">
    <h2 id="search-title">Instruments</h2>
    <form class="row" role="search" onSubmit=${(e) => e.preventDefault()}>
      <${Field} label="Search symbol or name" error=${results.error?.fields?.q}><input type="search" value=${q} onInput=${(e) => setQ(e.target.value)} placeholder="e.g. goog, bitcoin" /><//>
      <${Field} label="Asset class" error=${results.error?.fields?.asset_class}><select value=${assetClass} onChange=${(e) => setAssetClass(e.target.value)}>
        <option value="">all</option>${ASSET_CLASSES.map((c) => html`<option value=${c}>${c}</option>`)}</select><//>
    </form>
    ${added ? html`<p role="status" class="small">${added}</p>` : null}
    <${Loaded2} state=${results} render=${(answer) => html`<${Table} caption=${`${answer.meta.count} instruments`} columns=${columns} rows=${answer.data} rowKey=${(r) => r.symbol} />`} />
  </section>`;
}

function Loaded2({ state, render }) {
  if (state.loading && !state.data) return html`<${Loading} />`;
  if (state.error && !state.error.fields) return html`<${ErrorNote} error=${state.error} />`;
  if (!state.data) return null;
  if (!state.data.data.length) return html`<${Empty} hint=${state.data.meta?.hint}>No instrument matches. Try part of a symbol (EUR) or a name (Alphabet), or clear the filters.<//>`;
  return render(state.data);
}

function MarketsList({ user }) {
  const [version, setVersion] = useState(0); // bumped when the search adds to the watchlist
  return html`<h1>Markets</h1><div class="grid-2-1 markets">
    <${Watchlist} user=${user} version=${version} />
    <${Search} user=${user} onAdded=${() => setVersion((v) => v + 1)} />
  </div>`;
}

export default function Markets({ args, query, user }) {
  const [SymbolPage, setSymbolPage] = useState(null);
  const symbol = args[0]?.toUpperCase();
  useEffect(() => {
    if (symbol && !SymbolPage) import("./markets-symbol.js").then((m) => setSymbolPage(() => m.default));
  }, [symbol]);
  const list = useMemo(() => html`<${MarketsList} user=${user} />`, [user]);
  if (!symbol) return list;
  return SymbolPage ? html`<${SymbolPage} symbol=${symbol} query=${query} user=${user} />` : html`<${Loading} />`;
}
