// The account's history views: equity curve, order history, the ledger (cursor pages) and the
// caller's price alerts (list, create, delete; reloaded when one fires).
import { api } from "../api.js";
import { html, useMemo, useState } from "../lib.js";
import { LineChart } from "../lines.js";
import { useLive } from "../live.js";
import { useTheme } from "../theme.js";
import { ErrorNote, Field, Loaded, Table, num, useApi, useForm, when } from "../ui.js";
import { FormNote, errorAt } from "./form-errors.js";
import { describeOrder } from "./paper-trade.js";

/** A cursor-paged list: `page` answers, `next()` / `back()` walk the cursors. */
function usePaged(path, params, deps) {
  const [cursors, setCursors] = useState([undefined]);
  const cursor = cursors[cursors.length - 1];
  const state = useApi(() => api.get(path, { ...params, cursor }), [...deps, cursor]);
  const next = state.data?.meta?.next_cursor;
  const pager = html`<div class="row pager">
    <button type="button" class="small" disabled=${cursors.length < 2} onClick=${() => setCursors(cursors.slice(0, -1))}>Newer</button>
    <span class="muted small">Page ${cursors.length}</span>
    <button type="button" class="small" disabled=${!next} onClick=${() => setCursors([...cursors, next])}>Older</button>
  </div>`;
  return { state, pager, reset: () => setCursors([undefined]) };
}

const fmtMoney = (v) => num(v, 0);

export function EquityCurve({ accountId, version }) {
  const state = useApi(() => api.get(`/accounts/${accountId}/equity`, { timeframe: "1d" }), [accountId, version]);
  const colors = useTheme();
  const series = useMemo(() => {
    const e = state.data;
    if (!e) return [];
    return [
      { label: "Equity", points: e.timestamp.map((t, i) => [t, Number(e.equity[i])]), color: colors.accent },
      { label: "Cash", points: e.timestamp.map((t, i) => [t, Number(e.cash[i])]), color: colors.muted },
    ];
  }, [state.data, colors]);
  return html`<${Loaded} state=${state} list=${(d) => d?.timestamp} empty="No equity point yet: points are written as the desk processes market events for what the account holds."
    render=${() => html`<${LineChart} series=${series} yFormat=${fmtMoney} label="Account equity and cash" />`} />`;
}

export function OrderHistory({ accountId, version }) {
  const [status, setStatus] = useState("");
  const { state, pager, reset } = usePaged(`/accounts/${accountId}/orders`, { status, limit: 25 }, [accountId, version, status]);
  const columns = [
    { key: "created_at", label: "Placed", render: (o) => when(o.created_at) },
    { key: "side", label: "Order", render: describeOrder },
    { key: "status", label: "Status", render: (o) => html`<span class="tag">${o.status}</span>${o.reason_detail ? html` <span class="muted small">${o.reason_detail}</span>` : null}` },
    { key: "filled_qty", label: "Filled", num: true, render: (o) => num(o.filled_qty, 2) },
    { key: "filled_avg_price", label: "Avg price", num: true, render: (o) => num(o.filled_avg_price) },
    { key: "fees", label: "Fees", num: true, render: (o) => num(o.fees) },
  ];
  return html`<div class="row"><${Field} label="Status">
      <select value=${status} onChange=${(e) => { setStatus(e.target.value); reset(); }}>
        ${[["", "all"], ["open", "open"], ["closed", "closed"], ["filled", "filled"], ["canceled", "canceled"], ["rejected", "rejected"]].map(([v, t]) => html`<option value=${v}>${t}</option>`)}
      </select><//></div>
    <${Loaded} state=${state} empty="No order here yet." render=${(page) => html`<${Table} caption="Orders, newest first" columns=${columns} rows=${page.data} />${pager}`} />`;
}

const LEDGER_KINDS = ["", "deposit", "withdrawal", "hold", "release", "fill", "fee"];

export function Activity({ accountId, version }) {
  const [kind, setKind] = useState("");
  const { state, pager, reset } = usePaged(`/accounts/${accountId}/activity`, { kind, limit: 25 }, [accountId, version, kind]);
  const columns = [
    { key: "market_ts", label: "Market time", render: (a) => when(a.market_ts) },
    { key: "kind", label: "Kind", render: (a) => html`<span class="tag">${a.kind}</span>` },
    { key: "memo", label: "Memo", render: (a) => a.memo ?? "" },
    { key: "legs", label: "Legs", render: (a) => html`<span class="small">${a.legs.map((l) => html`<span class="leg">${l.book} <span class=${Number(l.amount) < 0 ? "down" : "up"}>${num(l.amount)}</span></span>`)}</span>` },
  ];
  return html`<div class="row"><${Field} label="Entry kind">
      <select value=${kind} onChange=${(e) => { setKind(e.target.value); reset(); }}>${LEDGER_KINDS.map((k) => html`<option value=${k}>${k || "all"}</option>`)}</select><//></div>
    <${Loaded} state=${state} empty="No ledger entry of this kind." render=${(page) => html`<${Table} caption="Ledger entries, newest first" columns=${columns} rows=${page.data} />${pager}`} />`;
}

const CONDITIONS = ["above", "below", "crossing_up", "crossing_down"];

function AlertForm({ symbols, changed }) {
  const form = useForm({ symbol: symbols[0] ?? "", condition: "crossing_up", level: "", frequency: "once", note: "" });
  const e = (name) => errorAt(form.error, name);
  const submit = (event) => {
    event.preventDefault();
    form.submit(async (v) => {
      const body = { symbol: v.symbol.trim(), condition: v.condition, level: v.level.trim(), frequency: v.frequency };
      if (v.note.trim()) body.note = v.note.trim();
      await api.post("/alerts", body);
      form.setValues((x) => ({ ...x, level: "", note: "" }));
      changed();
    });
  };
  return html`<form class="trade-form" onSubmit=${submit} aria-labelledby="alert-new" novalidate><h3 id="alert-new">New price alert</h3><div class="row">
    <${Field} label="Symbol" error=${e("symbol")}><input type="text" list="alert-symbols" autocomplete="off" ...${form.bind("symbol")} /><//>
    <datalist id="alert-symbols">${symbols.map((s) => html`<option value=${s}></option>`)}</datalist>
    <${Field} label="Condition" error=${e("condition")}><select ...${form.bind("condition")}>${CONDITIONS.map((c) => html`<option value=${c}>${c.replace("_", " ")}</option>`)}</select><//>
    <${Field} label="Level" error=${e("level")}><input type="text" inputmode="decimal" ...${form.bind("level")} /><//>
    <${Field} label="Frequency" error=${e("frequency")}><select ...${form.bind("frequency")}><option value="once">once</option><option value="every_bar">every bar</option></select><//>
    <${Field} label="Note" error=${e("note")}><input type="text" ...${form.bind("note")} /><//>
    <div class="field"><span aria-hidden="true">\u00a0</span><button type="submit" disabled=${form.busy}>Add alert</button></div>
  </div><${FormNote} error=${form.error} /></form>`;
}

export function Alerts({ symbols }) {
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((n) => n + 1);
  const state = useApi(() => api.get("/alerts", { limit: 100 }), [version]);
  const [error, setError] = useState(null);
  useLive("alerts", null, changed);
  const remove = (a) => api.del(`/alerts/${a.id}`).then(() => { setError(null); changed(); }, setError);
  const columns = [
    { key: "symbol", label: "Symbol" },
    { key: "condition", label: "When", render: (a) => `${a.condition.replace("_", " ")} ${num(a.level)}` },
    { key: "frequency", label: "Frequency" },
    { key: "status", label: "Status", render: (a) => html`<span class="tag">${a.status}</span>` },
    { key: "last_price", label: "Last price", num: true, render: (a) => num(a.last_price) },
    { key: "trigger_count", label: "Fired", num: true },
    { key: "note", label: "Note", render: (a) => a.note ?? "" },
    { key: "id", label: "Delete", render: (a) => html`<button type="button" class="small danger" aria-label=${`Delete alert ${a.symbol} ${a.condition.replace("_", " ")} ${num(a.level)}`} onClick=${() => remove(a)}>Delete</button>` },
  ];
  return html`<${AlertForm} symbols=${symbols} changed=${changed} /><${ErrorNote} error=${error} />
    <${Loaded} state=${state} empty="No price alert: add one above." render=${(page) => html`<${Table} caption="Your price alerts (all accounts)" columns=${columns} rows=${page.data} />`} />`;
}
