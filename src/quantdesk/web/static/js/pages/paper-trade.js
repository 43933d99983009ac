// One paper account's trading view: the live summary, positions with live P&L (quotes from
// the stream), open orders with cancel, and the order ticket whose 422 messages (validation
// errors and recorded rejects) show next to the field they are about.
import { api } from "../api.js";
import { html, useState } from "../lib.js";
import { useLive } from "../live.js";
import { DataAge, ErrorNote, Field, Loaded, Table, money, num, sign, useApi, useForm, when } from "../ui.js";
import { FormNote, errorAt } from "./form-errors.js";

/** Live prices {SYMBOL: {price, asOf}}: the stored quote first, then the stream's quotes and bars. */
export function useQuotes(symbols) {
  const [quotes, setQuotes] = useState({});
  const key = symbols.join(",");
  useApi(async () => {
    const answers = await Promise.all(symbols.map((s) => api.get(`/quotes/${encodeURIComponent(s)}`).catch(() => null)));
    const fresh = {};
    for (const a of answers) if (a?.data) fresh[a.data.symbol] = { price: a.data.price, asOf: a.data.as_of };
    setQuotes((q) => ({ ...fresh, ...q }));
    return fresh;
  }, [key]);
  // The latest frame wins, quote or bar close: a market replay sends bars, and may go back in time.
  const onFrame = (frame) => {
    const d = frame.data;
    if ((frame.type === "price_update" || frame.type === "bar") && d?.symbol) {
      setQuotes((q) => ({ ...q, [d.symbol]: { price: d.close, asOf: d.ts } }));
    }
  };
  useLive("quotes", symbols, onFrame);
  useLive("bars", symbols, onFrame);
  return quotes;
}

function livePosition(p, quote) {
  const price = quote ? Number(quote.price) : Number(p.current_price);
  const value = Number(p.qty) * price;
  const pnl = value - Number(p.cost_basis);
  return { ...p, price, value, pnl, pnlPct: Number(p.cost_basis) ? (pnl / Math.abs(Number(p.cost_basis))) * 100 : 0, asOf: quote?.asOf };
}

export function Summary({ summary, positions, quotes }) {
  // Until the positions are in, the server's equity (cash + positions at the desk's last price).
  const live = (positions ?? []).map((p) => livePosition(p, quotes[p.symbol]));
  const equity = positions ? Number(summary.cash) + live.reduce((s, p) => s + p.value, 0) : Number(summary.equity);
  const c = summary.currency;
  const items = [
    ["Equity", money(equity, c), ""], ["Cash", money(summary.cash, c), ""], ["Held for orders", money(summary.held, c), ""],
    ["Free", money(summary.free, c), ""], ["Total P&L", money(equity - Number(summary.net_deposits), c), sign(equity - Number(summary.net_deposits))],
    ["Day P&L", money(summary.day_pnl, c), sign(summary.day_pnl)], ["Open orders", num(summary.open_orders, 0), ""],
    ["Sharpe", summary.performance ? num(summary.performance.sharpe) : "–", ""],
  ];
  return html`<dl class="stats" aria-label="Account summary">${items.map(([k, v, cls]) => html`<div><dt>${k}</dt><dd class=${cls}>${v}</dd></div>`)}</dl>`;
}

export function Positions({ positions, quotes }) {
  const rows = positions.map((p) => livePosition(p, quotes[p.symbol]));
  const columns = [
    { key: "symbol", label: "Symbol" },
    { key: "qty", label: "Qty", num: true, render: (p) => num(p.qty, 2) },
    { key: "avg_entry_price", label: "Avg entry", num: true, render: (p) => num(p.avg_entry_price) },
    { key: "price", label: "Price", num: true, render: (p) => num(p.price) },
    { key: "value", label: "Market value", num: true, render: (p) => num(p.value) },
    { key: "pnl", label: "Unrealized P&L", num: true, render: (p) => html`<span class=${sign(p.pnl)}>${num(p.pnl)} (${num(p.pnlPct)} %)</span>` },
    { key: "realized_pnl", label: "Realized", num: true, render: (p) => num(p.realized_pnl) },
  ];
  return html`<${Table} columns=${columns} rows=${rows} rowKey=${(p) => p.symbol} />
    <p class="muted small">P&L at the latest price the stream sent.${rows.map((p) => html` ${p.symbol} <${DataAge} asOf=${p.asOf} ttlSeconds=${30} />`)}</p>`;
}

export function describeOrder(o) {
  const price = o.type === "market" ? "market" : [o.stop_price && `stop ${num(o.stop_price)}`, o.limit_price && `limit ${num(o.limit_price)}`].filter(Boolean).join(" ");
  return `${o.side} ${num(o.qty, 2)} ${o.symbol} ${price}`;
}

export function OpenOrders({ accountId, version, changed }) {
  const state = useApi(() => api.get(`/accounts/${accountId}/orders`, { status: "open", limit: 100 }), [accountId, version]);
  const [error, setError] = useState(null);
  const cancel = (o) => api.del(`/accounts/${accountId}/orders/${o.id}`).then(() => { setError(null); changed(); }, setError);
  const columns = [
    { key: "created_at", label: "Placed", render: (o) => when(o.created_at) },
    { key: "side", label: "Order", render: describeOrder },
    { key: "time_in_force", label: "TIF" },
    { key: "filled_qty", label: "Filled", num: true, render: (o) => num(o.filled_qty, 2) },
    { key: "hold", label: "Held", num: true, render: (o) => num(o.hold) },
    { key: "status", label: "Status", render: (o) => html`<span class="tag">${o.status}</span>` },
    { key: "id", label: "Cancel", render: (o) => html`<button type="button" class="small danger" aria-label=${`Cancel ${describeOrder(o)}`} onClick=${() => cancel(o)}>Cancel</button>` },
  ];
  return html`<${ErrorNote} error=${error} /><${Loaded} state=${state} empty="No open order." render=${(page) => html`
    <${Table} columns=${columns} rows=${page.data} />`} />`;
}

// A recorded reject (422 order-rejected) names no field: the check it failed says which.
const REJECT_FIELD = {
  unknown_symbol: "symbol", qty_precision: "qty", insufficient_position: "qty", insufficient_buying_power: "qty",
  no_market_price: "type", market_closed: "time_in_force",
};
const NEEDS = { market: [], limit: ["limit_price"], stop: ["stop_price"], stop_limit: ["limit_price", "stop_price"] };

export function OrderTicket({ accountId, symbols, symbol, changed }) {
  const form = useForm({ side: "buy", symbol: symbol ?? "", type: "limit", qty: "", limit_price: "", stop_price: "", time_in_force: "gtc" });
  const [placed, setPlaced] = useState(null);
  const v = form.values;
  const rejected = form.error?.problem?.reject_reason;
  const e = (name) => errorAt(form.error, name) ?? (REJECT_FIELD[rejected] === name ? form.error.message : undefined);
  const submit = (event) => {
    event.preventDefault();
    setPlaced(null);
    form.submit(async (values) => {
      const body = { side: values.side, symbol: values.symbol.trim(), type: values.type, qty: values.qty.trim(), time_in_force: values.time_in_force };
      for (const name of NEEDS[values.type]) if (values[name].trim()) body[name] = values[name].trim();
      try {
        const order = await api.post(`/accounts/${accountId}/orders`, body);
        setPlaced(order);
        form.setValues((x) => ({ ...x, qty: "", limit_price: "", stop_price: "" }));
      } finally {
        changed(); // a reject is recorded too: the lists change either way
      }
    });
  };
  const choice = (name, options) => html`<select ...${form.bind(name)}>${options.map((o) => html`<option value=${o}>${o.replace("_", " ")}</option>`)}</select>`;
  const text = (name, placeholder) => html`<input type="text" inputmode="decimal" autocomplete="off" placeholder=${placeholder} ...${form.bind(name)} />`;
  return html`<form class="ticket" onSubmit=${submit} aria-labelledby="ticket-title" novalidate>
    <h2 id="ticket-title">Order ticket</h2>
    <div class="row">
      <${Field} label="Side" error=${e("side")}>${choice("side", ["buy", "sell"])}<//>
      <${Field} label="Symbol" error=${e("symbol")}><input type="text" list="ticket-symbols" autocomplete="off" ...${form.bind("symbol")} /><//>
      <datalist id="ticket-symbols">${symbols.map((s) => html`<option value=${s}></option>`)}</datalist>
      <${Field} label="Type" error=${e("type")}>${choice("type", ["market", "limit", "stop", "stop_limit"])}<//>
      <${Field} label="Quantity" error=${e("qty")}>${text("qty", "e.g. 10")}<//>
      ${NEEDS[v.type].includes("limit_price") ? html`<${Field} label="Limit price" error=${e("limit_price")}>${text("limit_price", "e.g. 700.00")}<//>` : null}
      ${NEEDS[v.type].includes("stop_price") ? html`<${Field} label="Stop price" error=${e("stop_price")}>${text("stop_price", "e.g. 850.00")}<//>` : null}
      <${Field} label="Time in force" error=${e("time_in_force")}>${choice("time_in_force", ["gtc", "day", "ioc", "fok"])}<//>
    </div>
    ${rejected ? null : html`<${FormNote} error=${form.error} />`}
    ${rejected ? html`<p class="error" role="alert">Rejected (${rejected.replaceAll("_", " ")}): ${form.error.message}</p>` : null}
    ${placed ? html`<p class="ok" role="status">Placed: ${describeOrder(placed)} (${placed.status}).</p>` : null}
    <button type="submit" class="primary" disabled=${form.busy}>${form.busy ? "Placing…" : `Place ${v.side} order`}</button>
  </form>`;
}
