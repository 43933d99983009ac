// Shared pieces every page uses: data loading, formatting, tables, labelled fields that show
// the API's own validation messages, empty states that pass on the API's `meta.hint`, the
// connection badge and data-age labels.
import { html, useCallback, useEffect, useState } from "./lib.js";
import { connection } from "./live.js";
import { useStore } from "./store.js";

// ---------------------------------------------------------------- formatting

const numbers = new Map();
export function num(value, digits = 2) {
  if (value === null || value === undefined || value === "") return "–";
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  if (!numbers.has(digits)) {
    numbers.set(digits, new Intl.NumberFormat(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits }));
  }
  return numbers.get(digits).format(n);
}

export function money(value, currency = "USD") {
  if (value === null || value === undefined) return "–";
  return `${num(value, 2)} ${currency}`;
}

export function pct(value, digits = 2) {
  if (value === null || value === undefined) return "–";
  return `${num(Number(value) * 100, digits)}%`;
}

export function when(value) {
  if (!value) return "–";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return date.toISOString().replace("T", " ").slice(0, 19) + "Z";
}

export function day(value) {
  return value ? when(value).slice(0, 10) : "–";
}

export function ago(seconds) {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

/** Positive green, negative red: a class name for a signed figure. */
export function sign(value) {
  const n = Number(value);
  return n > 0 ? "up" : n < 0 ? "down" : "";
}

// ---------------------------------------------------------------- data

/** Run `load()` now and whenever `deps` change: {data, error, loading, reload, setData}. */
export function useApi(load, deps = []) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const reload = useCallback(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }),
    );
    return () => (live = false);
  }, deps);
  useEffect(reload, [reload]);
  const setData = (update) =>
    setState((s) => ({ ...s, data: typeof update === "function" ? update(s.data) : update }));
  return { ...state, reload, setData };
}

// ---------------------------------------------------------------- components

export function ErrorNote({ error }) {
  if (!error) return null;
  const status = error.status ? `${error.status} ` : "";
  return html`<p class="error" role="alert">${status}${error.message}</p>`;
}

export function Loading({ what = "Loading" }) {
  return html`<p class="muted" aria-busy="true">${what}…</p>`;
}

/** An empty list says why and what to do: the API's `meta.hint` when it gave one. */
export function Empty({ hint, children }) {
  return html`<div class="empty"><p>${children}</p>${hint ? html`<p class="muted">${hint}</p>` : null}</div>`;
}

/** Whatever `useApi` holds: loading, an error, an empty list with its hint, or `render(data)`. */
export function Loaded({ state, render, empty = "Nothing here yet.", list = (d) => d?.data }) {
  if (state.loading && !state.data) return html`<${Loading} />`;
  if (state.error) return html`<${ErrorNote} error=${state.error} />`;
  const items = list(state.data);
  if (Array.isArray(items) && items.length === 0) {
    return html`<${Empty} hint=${state.data?.meta?.hint}>${empty}<//>`;
  }
  return render(state.data);
}

/** columns: [{key, label, render?(row), num?: true}] */
export function Table({ caption, columns, rows, rowKey = (r) => r.id, onRow }) {
  // Focusable: a table wider than the screen scrolls in its box, and the keyboard must reach it.
  return html`<div class="table-wrap" tabindex="0"><table>
    ${caption ? html`<caption>${caption}</caption>` : null}
    <thead><tr>${columns.map((c) => html`<th scope="col" class=${c.num ? "num" : ""}>${c.label}</th>`)}</tr></thead>
    <tbody>${rows.map(
      (row) => html`<tr key=${rowKey(row)} class=${onRow ? "clickable" : ""}
          onClick=${onRow ? () => onRow(row) : undefined}>
        ${columns.map((c) => html`<td class=${c.num ? "num" : ""}>${c.render ? c.render(row) : row[c.key]}</td>`)}
      </tr>`,
    )}</tbody>
  </table></div>`;
}

let fieldIds = 0;
/** A labelled control; `error` (the API's message for this field) is announced with it. */
export function Field({ label, error, children, hint }) {
  const [id] = useState(() => `f${++fieldIds}`);
  const control = Array.isArray(children) ? children[0] : children;
  const described = error ? `${id}-error` : hint ? `${id}-hint` : undefined;
  if (control?.props) {
    control.props.id = id;
    if (described) control.props["aria-describedby"] = described;
    if (error) control.props["aria-invalid"] = "true";
  }
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${control}
    ${error ? html`<p class="field-error" id=${`${id}-error`}>${error}</p>` : null}
    ${!error && hint ? html`<p class="muted small" id=${`${id}-hint`}>${hint}</p>` : null}
  </div>`;
}

/** Form state plus the API's field errors: `bind(name)` gives value + onInput. */
export function useForm(initial) {
  const [values, setValues] = useState(initial);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const bind = (name) => ({
    name,
    value: values[name],
    onInput: (event) => setValues((v) => ({ ...v, [name]: event.target.value })),
  });
  async function submit(action) {
    setBusy(true);
    setError(null);
    try {
      return await action(values);
    } catch (caught) {
      setError(caught);
      return undefined;
    } finally {
      setBusy(false);
    }
  }
  const fieldError = (name) => error?.fields?.[name];
  return { values, setValues, bind, submit, error, fieldError, busy };
}

export function Tabs({ tabs, current, onChange, label }) {
  return html`<div class="tabs" role="tablist" aria-label=${label}>
    ${tabs.map(
      ([value, text]) => html`<button type="button" role="tab" aria-selected=${value === current}
        class=${value === current ? "tab active" : "tab"} onClick=${() => onChange(value)}>${text}</button>`,
    )}
  </div>`;
}

/** `live`, `reconnecting` or `stale`, with the time of the last frame: shown wherever data is live. */
export function ConnectionBadge() {
  const { state, asOf } = useStore(connection);
  const text = { live: "Live", connecting: "Connecting", reconnecting: "Reconnecting", stale: "Stale" }[state];
  const title = asOf ? `last message ${when(asOf)}` : "no message yet";
  return html`<span class=${`badge conn-${state}`} role="status" title=${title}>
    <span class="dot" aria-hidden="true"></span>${text}${state === "stale" && asOf ? html` · as of ${when(asOf).slice(11)}` : null}
  </span>`;
}

/** "as of …, N min old" on data older than its cache TTL (nothing when fresh). */
export function DataAge({ asOf, ttlSeconds = 60 }) {
  if (!asOf) return null;
  const age = (Date.now() - new Date(typeof asOf === "number" ? asOf * 1000 : asOf)) / 1000;
  if (age <= ttlSeconds) return null;
  return html`<span class="age" title=${when(asOf)}>as of ${when(asOf)} · ${ago(age)} old</span>`;
}
