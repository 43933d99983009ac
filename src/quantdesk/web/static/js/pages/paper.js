// Paper trading (#/paper, #/paper/<account_id>?tab=trade|orders|activity|alerts): the caller's
// accounts and a form to open one; for one account the live summary, order ticket, open
// orders, positions and equity curve (paper-trade.js), order history, ledger and price alerts
// (paper-lists.js). Order updates of the account and quotes of its positions arrive on the
// shared stream; the views reload over HTTP on an update or a gap.
import { api, getAll } from "../api.js";
import { html, useState } from "../lib.js";
import { useLive } from "../live.js";
import { href, navigate } from "../router.js";
import { ConnectionBadge, Field, Loaded, Loading, Table, Tabs, money, useApi, useForm, when } from "../ui.js";
import { FormNote, errorAt } from "./form-errors.js";
import { Activity, Alerts, EquityCurve, OrderHistory } from "./paper-lists.js";
import { OpenOrders, OrderTicket, Positions, Summary, useQuotes } from "./paper-trade.js";

const TABS = [["trade", "Trade"], ["orders", "Orders"], ["activity", "Activity"], ["alerts", "Price alerts"]];

function CreateAccount() {
  const form = useForm({ name: "", currency: "USD", starting_cash: "100000", allow_short: false });
  const e = (name) => errorAt(form.error, name);
  const submit = (event) => {
    event.preventDefault();
    form.submit(async (v) => {
      const account = await api.post("/accounts", { name: v.name, currency: v.currency.trim().toUpperCase(), starting_cash: v.starting_cash.trim() || "0", allow_short: v.allow_short });
      navigate(`paper/${account.id}`);
    });
  };
  return html`<form class="card trade-form" onSubmit=${submit} aria-labelledby="acct-new" novalidate><h2 id="acct-new">Open a paper account</h2>
    <${Field} label="Name" error=${e("name")}><input type="text" ...${form.bind("name")} /><//>
    <div class="row">
      <${Field} label="Currency" error=${e("currency")} hint="ISO 4217, e.g. USD"><input type="text" maxlength="3" ...${form.bind("currency")} /><//>
      <${Field} label="Starting cash" error=${e("starting_cash")}><input type="text" inputmode="decimal" ...${form.bind("starting_cash")} /><//>
    </div>
    <div class="field"><label class="check"><input type="checkbox" checked=${form.values.allow_short}
      onChange=${(ev) => form.setValues((x) => ({ ...x, allow_short: ev.target.checked }))} /> Allow short selling</label></div>
    <${FormNote} error=${form.error} />
    <button type="submit" class="primary" disabled=${form.busy}>Open account</button>
  </form>`;
}

const ACCOUNT_COLUMNS = [
  { key: "name", label: "Account", render: (a) => html`<a href=${href(`paper/${a.id}`)}>${a.name}</a>` },
  { key: "status", label: "Status", render: (a) => html`<span class="tag">${a.status}</span>` },
  { key: "cash", label: "Cash", num: true, render: (a) => money(a.cash, a.currency) },
  { key: "equity", label: "Equity", num: true, render: (a) => money(a.equity, a.currency) },
  { key: "created_at", label: "Opened", render: (a) => when(a.created_at) },
];

function Accounts() {
  const state = useApi(() => api.get("/accounts", { limit: 100 }), []);
  return html`<h1>Paper trading</h1><div class="grid-2-1">
    <section class="card" aria-labelledby="acct-list"><h2 id="acct-list">Your accounts</h2>
      <${Loaded} state=${state} empty="No paper account yet: open one with the form." render=${(page) => html`<${Table} columns=${ACCOUNT_COLUMNS} rows=${page.data} />`} /></section>
    <${CreateAccount} />
  </div>`;
}

function TradeTab({ account, version, changed, symbols }) {
  const id = account.id;
  const summary = useApi(() => api.get(`/accounts/${id}/summary`), [id, version]);
  const positions = useApi(() => api.get(`/accounts/${id}/positions`), [id, version]);
  const held = positions.data?.data ?? [];
  const quotes = useQuotes(held.map((p) => p.symbol));
  return html`<section class="card" aria-labelledby="acct-summary"><div class="spread"><h2 id="acct-summary">Summary</h2><${ConnectionBadge} /></div>
      <${Loaded} state=${summary} render=${(s) => html`<${Summary} summary=${s} positions=${positions.data ? held : null} quotes=${quotes} />`} /></section>
    <div class="grid-2-1">
      <div>
        <section class="card" aria-labelledby="acct-pos"><h2 id="acct-pos">Positions</h2>
          <${Loaded} state=${positions} empty="No open position: place an order with the ticket." render=${() => html`<${Positions} positions=${held} quotes=${quotes} />`} /></section>
        <section class="card" aria-labelledby="acct-open"><h2 id="acct-open">Open orders</h2><${OpenOrders} accountId=${id} version=${version} changed=${changed} /></section>
      </div>
      <section class="card">${positions.data && symbols.length
        ? html`<${OrderTicket} accountId=${id} symbols=${symbols} symbol=${held[0]?.symbol ?? symbols[0]} changed=${changed} />` : html`<${Loading} />`}</section>
    </div>
    <section class="card" aria-labelledby="acct-eq"><h2 id="acct-eq">Equity</h2><${EquityCurve} accountId=${id} version=${version} /></section>`;
}

function Account({ id, tab }) {
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((n) => n + 1);
  const account = useApi(() => api.get(`/accounts/${id}`), [id, version]);
  const accounts = useApi(() => api.get("/accounts", { limit: 100 }), []);
  const instruments = useApi(() => getAll("/instruments"), []);
  const symbols = (instruments.data ?? []).map((i) => i.symbol);
  useLive("orders", null, (frame) => {
    if (frame.type === "gap" || frame.data?.account_id === id) changed();
  });
  const others = accounts.data?.data ?? [];
  return html`<p><a href=${href("paper")}>← All accounts</a></p>
    <${Loaded} state=${account} render=${(a) => html`
      <div class="spread"><h1>${a.name} <span class="muted small">${a.currency} · ${a.status}</span></h1>
        ${others.length > 1 ? html`<${Field} label="Switch account"><select value=${id} onChange=${(e) => navigate(`paper/${e.target.value}`, { tab })}>
          ${others.map((o) => html`<option value=${o.id}>${o.name}</option>`)}</select><//>` : null}</div>
      <${Tabs} label="Account views" tabs=${TABS} current=${tab} onChange=${(t) => navigate(`paper/${id}`, { tab: t })} />
      ${tab === "trade" ? html`<${TradeTab} account=${a} version=${version} changed=${changed} symbols=${symbols} />` : null}
      ${tab === "orders" ? html`<section class="card"><${OrderHistory} accountId=${id} version=${version} /></section>` : null}
      ${tab === "activity" ? html`<section class="card"><${Activity} accountId=${id} version=${version} /></section>` : null}
      ${tab === "alerts" ? html`<section class="card"><${Alerts} symbols=${symbols} /></section>` : null}`} />`;
}

export default function Paper({ args, query }) {
  if (!args[0]) return html`<${Accounts} />`;
  const tab = TABS.some(([t]) => t === query.tab) ? query.tab : "trade";
  return html`<${Account} key=${args[0]} id=${args[0]} tab=${tab} />`;
}
