// The screener's filter builder: rows of field / operator / value (the allow-listed fields and
// operators of POST /api/v1/screener, docs/research.md), a sort, and the results. A 422 names
// the row (`body.filters.N.value`), so its message is shown next to that row's control.
import { api } from "../api.js";
import { html, useEffect, useState } from "../lib.js";
import { href } from "../router.js";
import { Empty, ErrorNote, Field, Table, num, sign } from "../ui.js";

const NUMERIC = ["price", "previous_close", "change", "change_pct", "open", "high", "low", "volume", "turnover",
  "market_cap", "pe", "rsi_14", "sma_50", "sma_200", "sma_50_distance_pct", "sma_200_distance_pct", "sentiment"];
const TEXT = ["symbol", "name", "asset_class", "exchange", "currency", "sector", "industry", "country"];
const OPS = {
  eq: "=", ne: "≠", gt: ">", gte: "≥", lt: "<", lte: "≤", between: "between", in: "in", not_in: "not in", is_null: "is empty",
};
const TEXT_OPS = ["eq", "ne", "in", "not_in", "is_null"];
const PLACEHOLDER = { between: "low, high", in: "a, b, c", not_in: "a, b, c", is_null: "true or false" };

let rowIds = 0;
const newRow = (field = "change_pct", op = "gt", value = "0") => ({ id: ++rowIds, field, op, value });

/** The text box's value as the API wants it: numbers for numeric fields, lists, booleans. */
function parse({ field, op, value }) {
  const numeric = NUMERIC.includes(field);
  const one = (text) => {
    const t = text.trim();
    return numeric && t !== "" && Number.isFinite(Number(t)) ? Number(t) : t;
  };
  if (op === "is_null") return value.trim() === "false" ? false : value.trim() === "true" ? true : value.trim();
  if (op === "between" || op === "in" || op === "not_in") return value.split(",").map(one).filter((v) => v !== "");
  return one(value);
}

/** {rowIndex: {field|op|value: message}} and the messages that name no row. */
function rowErrors(error) {
  const rows = {};
  const other = [];
  for (const item of error?.problem?.errors || []) {
    const match = /^body\.filters\.(\d+)\.?(field|op|value)?/.exec(item.field || "");
    if (match) (rows[match[1]] ??= {})[match[2] || "value"] = item.msg;
    else other.push(item.msg);
  }
  return { rows, other };
}

const COLUMNS = [
  { key: "symbol", label: "Symbol", render: (r) => html`<a href=${href(`markets/${r.symbol}`)}>${r.symbol}</a>` },
  { key: "name", label: "Name" },
  { key: "asset_class", label: "Class" },
  { key: "sector", label: "Sector", render: (r) => r.sector || "–" },
  { key: "as_of", label: "Session" },
  { key: "price", label: "Price", num: true, render: (r) => num(r.price) },
  { key: "change_pct", label: "Change", num: true,
    render: (r) => html`<span class=${sign(r.change_pct)}>${num(r.change_pct)}%</span>` },
  { key: "volume", label: "Volume", num: true, render: (r) => num(r.volume, 0) },
  { key: "pe", label: "P/E", num: true, render: (r) => num(r.pe) },
  { key: "rsi_14", label: "RSI 14", num: true, render: (r) => num(r.rsi_14, 1) },
  { key: "sentiment", label: "Sentiment", num: true, render: (r) => num(r.sentiment, 2) },
];

function FilterRow({ row, index, errors, onChange, onRemove }) {
  const ops = TEXT.includes(row.field) ? TEXT_OPS : Object.keys(OPS);
  const set = (name) => (event) => {
    const next = { ...row, [name]: event.target.value };
    if (name === "field" && TEXT.includes(next.field) && !TEXT_OPS.includes(next.op)) next.op = "eq";
    onChange(next);
  };
  return html`<fieldset class="row filter-row">
    <legend class="muted small">Filter ${index + 1}</legend>
    <${Field} label="Field" error=${errors?.field}>
      <select value=${row.field} onChange=${set("field")}>
        <optgroup label="Numbers">${NUMERIC.map((f) => html`<option value=${f}>${f}</option>`)}</optgroup>
        <optgroup label="Text">${TEXT.map((f) => html`<option value=${f}>${f}</option>`)}</optgroup>
      </select><//>
    <${Field} label="Operator" error=${errors?.op}>
      <select value=${row.op} onChange=${set("op")}>
        ${ops.map((o) => html`<option value=${o}>${OPS[o]}</option>`)}
      </select><//>
    <${Field} label="Value" error=${errors?.value}>
      <input value=${row.value} onInput=${set("value")} placeholder=${PLACEHOLDER[row.op] || ""} autocomplete="off" /><//>
    <button type="button" class="small danger" onClick=${onRemove} aria-label=${`Remove filter ${index + 1}`}>Remove</button>
  </fieldset>`;
}

export default function Screener() {
  const [rows, setRows] = useState(() => [newRow()]);
  const [sort, setSort] = useState("-change_pct");
  const [includeStale, setIncludeStale] = useState(false);
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function run(event, cursor) {
    event?.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { filters: rows.map((r) => ({ field: r.field, op: r.op, value: parse(r) })), sort, limit: 50 };
      if (includeStale) body.include_stale = true;
      if (cursor) body.cursor = cursor;
      const page = await api.post("/screener", body);
      setResult((prev) => (cursor && prev ? { ...page, data: [...prev.data, ...page.data] } : page));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }
  useEffect(() => {
    run();
  }, []);
  const errs = rowErrors(error);
  const update = (index, next) => setRows((all) => all.map((r, i) => (i === index ? next : r)));
  return html`<section class="card" aria-labelledby="screener-h">
    <h2 id="screener-h">Screener</h2>
    <form onSubmit=${run} novalidate>
      ${rows.map((row, index) => html`<${FilterRow} key=${row.id} row=${row} index=${index} errors=${errs.rows[index]}
        onChange=${(next) => update(index, next)} onRemove=${() => setRows((all) => all.filter((r) => r.id !== row.id))} />`)}
      ${rows.length === 0 ? html`<p class="muted small">No filter: every instrument of the snapshot matches.</p>` : null}
      <div class="row">
        <button type="button" onClick=${() => setRows((all) => [...all, newRow("volume", "gte", "0")])}>Add filter</button>
        <${Field} label="Sort by"><select value=${sort} onChange=${(e) => setSort(e.target.value)}>
          ${[...NUMERIC, ...TEXT].flatMap((f) => [
            html`<option value=${`-${f}`}>${f} ↓</option>`, html`<option value=${f}>${f} ↑</option>`])}
        </select><//>
        <label class="check"><input type="checkbox" checked=${includeStale}
          onChange=${(e) => setIncludeStale(e.target.checked)} /> Include stale instruments</label>
        <button type="submit" class="primary" disabled=${busy}>${busy ? "Screening…" : "Screen"}</button>
      </div>
      ${error && (errs.other.length || !error.problem?.errors) ? html`<${ErrorNote} error=${error} />` : null}
    </form>
    ${result ? html`<div class="spread"><h3>Results</h3>
        <span class="muted small">${result.meta.total ?? result.data.length} match · snapshot of ${result.meta.refreshed_at ? result.meta.refreshed_at.slice(0, 16).replace("T", " ") : "–"}</span></div>
      ${result.data.length
        ? html`<${Table} caption="Screener results" rowKey=${(r) => r.symbol} rows=${result.data} columns=${COLUMNS} />`
        : html`<${Empty} hint=${result.meta.hint || result.meta.message}>No instrument matches every filter.<//>`}
      ${result.meta.next_cursor ? html`<button type="button" onClick=${() => run(null, result.meta.next_cursor)}>More results</button>` : null}`
    : null}
  </section>`;
}
