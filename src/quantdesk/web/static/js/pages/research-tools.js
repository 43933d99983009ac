// Research tools: the screener's filter builder and the symbol report.
// The screener's filter builder: rows of field / operator / value (the allow-listed fields and
// operators of POST /api/v1/screener, docs/research.md), a sort, and the results. A 422 names
// the row (`body.filters.N.value`), so its message is shown next to that row's control.
import { api } from "../api.js";
import { html, useEffect, useState } from "../lib.js";
import { href } from "../router.js";
import { Empty, ErrorNote, Field, Loaded, Table, num, sign, useApi } from "../ui.js";

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

export function Screener() {
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

// A symbol's research report (GET /research/{symbol}/report?format=md). The markdown is drawn
// as elements from its text (headings, tables, lists, paragraphs, **bold**, `code`): no HTML
// string ever reaches innerHTML. The PDF is fetched with the session's token and saved.
/** `**bold**` and `code` spans of one line, as text nodes and elements. */
function inline(text) {
  return text.split(/(\*\*[^*]+\*\*|`[^`]+`)/).map((part) => {
    if (part.startsWith("**") && part.endsWith("**") && part.length > 4) return html`<strong>${part.slice(2, -2)}</strong>`;
    if (part.startsWith("`") && part.endsWith("`") && part.length > 2) return html`<code>${part.slice(1, -1)}</code>`;
    return part;
  });
}

const cells = (line) => line.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim());

function table(lines) {
  const [head, , ...body] = lines;
  const names = cells(head);
  return html`<div class="table-wrap" tabindex="0"><table><thead><tr>${names.map((n) => html`<th scope="col">${inline(n)}</th>`)}</tr></thead>
    <tbody>${body.map((row) => html`<tr>${cells(row).map((c, i) => html`<td class=${i ? "num" : ""}>${inline(c)}</td>`)}</tr>`)}</tbody>
  </table></div>`;
}

/** Nested "- item" lines (two spaces per level) as nested lists. */
function list(lines) {
  const root = [];
  const stack = [{ depth: -1, items: root }];
  for (const line of lines) {
    const depth = line.search(/\S/) >> 1;
    const item = { text: line.trim().slice(2), children: [] };
    while (stack.length > 1 && stack[stack.length - 1].depth >= depth) stack.pop();
    stack[stack.length - 1].items.push(item);
    stack.push({ depth, items: item.children });
  }
  const draw = (items) => html`<ul>${items.map((i) => html`<li>${inline(i.text)}${i.children.length ? draw(i.children) : null}</li>`)}</ul>`;
  return draw(root);
}

/** Markdown text → preact elements (the subset the report generator writes). */
export function markdown(text) {
  const blocks = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; ) {
    const line = lines[i];
    const heading = /^(#{1,4})\s+(.*)$/.exec(line);
    const take = (test) => {
      const group = [];
      while (i < lines.length && test(lines[i])) group.push(lines[i++]);
      return group;
    };
    if (!line.trim()) i++;
    else if (heading) {
      const level = Math.min(heading[1].length + 1, 4); // the page has its own h1
      blocks.push(html`<${`h${level}`}>${inline(heading[2])}<//>`);
      i++;
    } else if (line.trimStart().startsWith("|")) blocks.push(table(take((l) => l.trimStart().startsWith("|"))));
    else if (/^\s*[-*] /.test(line)) blocks.push(list(take((l) => /^\s*[-*] /.test(l))));
    else blocks.push(html`<p>${inline(take((l) => l.trim() && !/^(#|\s*[-*] |\s*\|)/.test(l)).join(" "))}</p>`);
  }
  return blocks;
}

async function downloadPdf(symbol) {
  const response = await api.raw(`/research/${encodeURIComponent(symbol)}/report`, { format: "pdf" });
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: `${symbol}-report.pdf` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function Report({ query }) {
  const [symbol, setSymbol] = useState(query.symbol || "GOOG");
  const [asked, setAsked] = useState((query.symbol || "GOOG").toUpperCase());
  const [pdfError, setPdfError] = useState(null);
  const state = useApi(() => api.get(`/research/${encodeURIComponent(asked)}/report`, { format: "md" }), [asked]);
  const fieldError = state.error?.fields?.symbol;
  return html`<section class="card" aria-labelledby="report-h">
    <h2 id="report-h" class="visually-hidden">Symbol report</h2>
    <form class="row" onSubmit=${(e) => (e.preventDefault(), setAsked(symbol.trim().toUpperCase()))} novalidate>
      <${Field} label="Symbol" error=${fieldError} hint="A stored instrument, e.g. GOOG">
        <input value=${symbol} onInput=${(e) => setSymbol(e.target.value)} autocomplete="off" /><//>
      <button type="submit" class="primary">Show report</button>
      <button type="button" disabled=${!state.data}
        onClick=${() => downloadPdf(asked).then(() => setPdfError(null), setPdfError)}>Download PDF</button>
    </form>
    <${ErrorNote} error=${pdfError} />
    ${fieldError ? null : html`<${Loaded} state=${state} list=${() => null}
      render=${(text) => html`<article class="report">${markdown(String(text))}</article>`} />`}
  </section>`;
}
