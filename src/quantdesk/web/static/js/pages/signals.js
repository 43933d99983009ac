// Signals (#/signals?tab=all&symbol=GOOG&status=active): the newest signal per instrument,
// timeframe and strategy (GET /signals/latest), or every signal with the filters GET /signals
// takes and a cursor "Load more". A row opens its rationale in full. Statuses change live: the
// signals stream's new_signal / signal_closed frames update the rows in place.
import { api } from "../api.js";
import { html, useEffect, useState } from "../lib.js";
import { useLive } from "../live.js";
import { href, navigate } from "../router.js";
import { ConnectionBadge, Empty, ErrorNote, Field, Loading, num, pct, Tabs, useApi, when } from "../ui.js";

const STATUSES = ["active", "target_hit", "stopped", "expired"];
const TIMEFRAMES = ["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "1M"];
const FILTERS = ["symbol", "timeframe", "strategy", "direction", "status", "min_confidence", "since"];
const LATEST_FILTERS = ["symbol", "timeframe", "direction"];
const PAGE = 50;
const priceDigits = (price) => (Math.abs(Number(price)) < 10 ? 5 : 2); // as chart.js, without loading the chart library

function useSignals(tab, filters) {
  const [items, setItems] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [meta, setMeta] = useState(null);
  const [state, setState] = useState({ loading: true, error: null });
  const key = JSON.stringify([tab, filters]);
  const fetchPage = async (after) => {
    setState({ loading: true, error: null });
    try {
      const params = { ...filters, since: filters.since ? `${filters.since}T00:00:00Z` : undefined };
      const answer = tab === "latest"
        ? await api.get("/signals/latest", { ...Object.fromEntries(LATEST_FILTERS.map((k) => [k, filters[k]])), limit: 500 })
        : await api.get("/signals", { ...params, cursor: after, limit: PAGE });
      setItems((old) => (after ? [...old, ...answer.data] : answer.data));
      setCursor(answer.meta?.next_cursor ?? null);
      setMeta(answer.meta);
      setState({ loading: false, error: null });
    } catch (error) {
      if (!after) setItems([]);
      setState({ loading: false, error });
    }
  };
  useEffect(() => void fetchPage(null), [key]);
  return { items, setItems, cursor, meta, ...state, more: () => fetchPage(cursor), reload: () => fetchPage(null) };
}

/** Does a new_signal frame belong to the list the filters describe? */
function matches(data, filters) {
  if (filters.symbol && data.symbol !== filters.symbol.toUpperCase()) return false;
  if (filters.timeframe && data.timeframe !== filters.timeframe) return false;
  if (filters.strategy && data.strategy !== filters.strategy) return false;
  if (filters.direction && data.direction !== filters.direction) return false;
  if (filters.status && filters.status !== "active") return false;
  if (filters.min_confidence && data.confidence < Number(filters.min_confidence)) return false;
  return true;
}

function Rationale({ signal }) {
  // A live row has no rationale yet: read the signal itself once it is opened.
  const full = useApi(() => (signal.rationale ? Promise.resolve({ data: signal }) : api.get(`/signals/${signal.id}`)), [signal.id]);
  if (full.loading) return html`<${Loading} />`;
  if (full.error) return html`<${ErrorNote} error=${full.error} />`;
  const s = { ...full.data.data, status: signal.status };
  const d = priceDigits(s.entry);
  return html`<div class="signal-rationale">
    <h3>Why: ${s.strategy} ${s.direction} ${s.symbol} ${s.timeframe}</h3>
    <ul>${(s.rationale ?? []).map((r) => html`<li><strong>${r.name}</strong>: ${r.text}
      ${r.threshold !== null && r.threshold !== undefined ? html` <span class="muted">(value ${num(r.value, priceDigits(r.value))}, threshold ${num(r.threshold, priceDigits(r.threshold))})</span>` : null}</li>`)}</ul>
    <dl class="stats">
      <div><dt>Entry</dt><dd>${num(s.entry, d)}</dd></div>
      <div><dt>Target</dt><dd>${num(s.target, d)}</dd></div>
      <div><dt>Stop</dt><dd>${num(s.stop, d)}</dd></div>
      <div><dt>Confidence</dt><dd>${num(s.confidence, 1)}</dd></div>
      <div><dt>Source bar</dt><dd>${when(s.source_bar_at)}</dd></div>
      <div><dt>Expires</dt><dd>${when(s.expires_at)}</dd></div>
      <div><dt>Closed</dt><dd>${when(s.closed_at)}</dd></div>
      <div><dt>Close price</dt><dd>${num(s.close_price, d)}</dd></div>
      <div><dt>Return</dt><dd>${s.settled_return === null || s.settled_return === undefined ? "–" : pct(s.settled_return)}</dd></div>
    </dl>
    <p class="small"><a href=${href(`markets/${s.symbol}`, { tf: s.timeframe })}>Chart ${s.symbol} ${s.timeframe} →</a></p>
  </div>`;
}

function SignalRows({ items, open, setOpen, changed }) {
  const header = ["Created", "Symbol", "TF", "Strategy", "Side", "Entry", "Target", "Stop", "Conf.", "Status", ""];
  return html`<div class="table-wrap"><table class="signals">
    <caption class="sr-only">Signals</caption>
    <thead><tr>${header.map((h, i) => html`<th scope="col" class=${i >= 5 && i <= 8 ? "num" : ""}>${h || html`<span class="sr-only">Rationale</span>`}</th>`)}</tr></thead>
    <tbody>${items.map((s) => {
      const d = priceDigits(s.entry);
      const isOpen = open === s.id;
      return html`<tr key=${s.id} class=${changed.has(s.id) ? "status-changed" : ""} data-signal=${s.id} data-live=${changed.get(s.id)}>
          <td>${when(s.created_at).slice(0, 16)}</td>
          <td><a href=${href(`markets/${s.symbol}`, { tf: s.timeframe })}>${s.symbol}</a></td>
          <td>${s.timeframe}</td><td>${s.strategy}</td>
          <td class=${s.direction === "LONG" ? "up" : "down"}>${s.direction}</td>
          <td class="num">${num(s.entry, d)}</td><td class="num">${num(s.target, d)}</td><td class="num">${num(s.stop, d)}</td>
          <td class="num">${num(s.confidence, 1)}</td>
          <td><span class="tag status">${s.status}</span></td>
          <td><button type="button" class="small" aria-expanded=${isOpen} aria-controls=${`why-${s.id}`}
            onClick=${() => setOpen(isOpen ? null : s.id)}>${isOpen ? "Hide" : "Why?"}</button></td>
        </tr>
        ${isOpen ? html`<tr key=${`${s.id}-why`} id=${`why-${s.id}`}><td colspan=${header.length}><${Rationale} signal=${s} /></td></tr>` : null}`;
    })}</tbody>
  </table></div>`;
}

function Filters({ tab, filters, error, apply }) {
  const [values, setValues] = useState(filters);
  useEffect(() => setValues(filters), [JSON.stringify(filters)]);
  const shown = tab === "latest" ? LATEST_FILTERS : FILTERS;
  const field = (name) => error?.fields?.[name];
  const bind = (name, now = false) => ({
    value: values[name] ?? "",
    [now ? "onChange" : "onInput"]: (e) => {
      const next = { ...values, [name]: e.target.value };
      setValues(next);
      if (now) apply(next);
    },
  });
  const select = (name, options, all = "any") => html`<select ...${bind(name, true)}><option value="">${all}</option>${options.map((o) => html`<option value=${o}>${o}</option>`)}</select>`;
  const controls = {
    symbol: html`<${Field} label="Symbol" error=${field("symbol")}><input ...${bind("symbol")} placeholder="e.g. GOOG" size="8" /><//>`,
    timeframe: html`<${Field} label="Timeframe" error=${field("timeframe")}>${select("timeframe", TIMEFRAMES)}<//>`,
    strategy: html`<${Field} label="Strategy" error=${field("strategy")}><input ...${bind("strategy")} placeholder="e.g. macd_cross" size="12" /><//>`,
    direction: html`<${Field} label="Direction" error=${field("direction")}>${select("direction", ["LONG", "SHORT"])}<//>`,
    status: html`<${Field} label="Status" error=${field("status")}>${select("status", STATUSES)}<//>`,
    min_confidence: html`<${Field} label="Min. confidence" error=${field("min_confidence")}><input ...${bind("min_confidence")} type="number" min="0" max="100" step="1" size="4" /><//>`,
    since: html`<${Field} label="Created since" error=${field("since")}><input ...${bind("since", true)} type="date" /><//>`,
  };
  return html`<form class="row signal-filters" aria-label="Filter signals" novalidate onSubmit=${(e) => { e.preventDefault(); apply(values); }}>
    ${shown.map((name) => controls[name])}
    <button type="submit">Apply</button>
    <button type="button" onClick=${() => apply({})}>Clear</button>
  </form>`;
}

export default function Signals({ query }) {
  const tab = query.tab === "all" || query.status || query.strategy ? "all" : "latest";
  const filters = Object.fromEntries(FILTERS.filter((k) => query[k]).map((k) => [k, query[k]]));
  const list = useSignals(tab, filters);
  const [open, setOpen] = useState(null);
  const [changed, setChanged] = useState(new Map()); // signal id -> "new" | "closed" (from a frame)
  const apply = (next, nextTab = tab) => {
    const clean = Object.fromEntries(Object.entries(next).filter(([, v]) => v !== "" && v !== undefined));
    navigate("signals", nextTab === "all" ? { tab: "all", ...clean } : clean);
  };

  useLive("signals", "*", (frame) => {
    if (frame.type === "gap") return list.reload();
    const d = frame.data ?? {};
    if (frame.type === "signal_closed") {
      const closed = { status: d.status, closed_at: d.closed_at, close_price: d.close_price, settled_return: d.settled_return };
      list.setItems((items) => items.map((s) => (s.id === d.signal_id ? { ...s, ...closed } : s)));
      setChanged((old) => new Map(old).set(d.signal_id, "closed"));
    } else if (frame.type === "new_signal" && matches(d, filters)) {
      const fresh = { status: "active", closed_at: null, close_price: null, settled_return: null };
      list.setItems((items) => {
        // Known already (the same signal published again): refresh it in place.
        if (items.some((s) => s.id === d.signal_id)) return items.map((s) => (s.id === d.signal_id ? { ...s, ...fresh } : s));
        const row = { ...d, ...fresh, id: d.signal_id, source_bar_at: new Date(d.source_ts * 1000).toISOString(), created_at: frame.timestamp, rationale: null };
        const same = (s) => s.symbol === d.symbol && s.timeframe === d.timeframe && s.strategy === d.strategy;
        return [row, ...(tab === "latest" ? items.filter((s) => !same(s)) : items)];
      });
      setChanged((old) => new Map(old).set(d.signal_id, "new"));
    }
  });

  return html`<section>
    <div class="spread"><h1>Signals</h1><${ConnectionBadge} /></div>
    <div class="card">
      <${Tabs} label="Signal lists" current=${tab} onChange=${(value) => apply(value === "latest" ? Object.fromEntries(LATEST_FILTERS.map((k) => [k, filters[k]])) : filters, value)}
        tabs=${[["latest", "Latest per strategy"], ["all", "All signals"]]} />
      <p class="muted small">${tab === "latest"
        ? "The newest signal of each instrument, timeframe and strategy, whatever its status."
        : "Every signal, newest first; filter them below."} Statuses change live as signals settle.</p>
      <${Filters} tab=${tab} filters=${filters} error=${list.error} apply=${apply} />
      ${list.error && !Object.keys(list.error.fields ?? {}).length ? html`<${ErrorNote} error=${list.error} />` : null}
      ${list.loading && !list.items.length ? html`<${Loading} />`
        : list.items.length ? html`<${SignalRows} items=${list.items} open=${open} setOpen=${setOpen} changed=${changed} />`
        : list.error ? null
        : html`<${Empty} hint=${list.meta?.hint}>No signal matches these filters. Clear them, or widen the date; signals are generated as bars arrive (quantdesk signals generate).<//>`}
      <p class="row small" aria-live="polite">
        <span class="muted">${list.items.length} shown</span>
        ${list.cursor ? html`<button type="button" onClick=${list.more} disabled=${list.loading}>Load more</button>` : null}
      </p>
    </div>
  </section>`;
}
