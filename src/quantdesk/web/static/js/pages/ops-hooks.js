// Operations: the signed-in administrator's own webhooks (subscriptions, deliveries, test,
// redeliver) and exports (create a bars export, follow it, download through its signed link).
import { api } from "../api.js";
import { html, useEffect, useState } from "../lib.js";
import { ErrorNote, Field, Loaded, Table, num, useApi, useForm, when } from "../ui.js";

const EVENTS = ["new_signal", "signal_closed", "order_update", "alert_triggered", "news", "backtest_completed", "export_ready", "job_failed"];
const DELIVERY_CLASS = { succeeded: "up", failed: "down" };

function Deliveries({ hook }) {
  const state = useApi(() => api.get(`/webhooks/${hook.id}/deliveries`, { limit: 20 }), [hook.id]);
  const [note, setNote] = useState(null);
  async function act(action) {
    setNote(null);
    try {
      await action();
      setNote({ ok: "Queued: the list refreshes in a moment." });
      setTimeout(state.reload, 1200);
    } catch (error) {
      setNote({ error });
    }
  }
  return html`<div class="deliveries">
    <div class="spread"><h4>Deliveries of ${hook.url}</h4>
      <span class="role-cell"><button type="button" class="small" onClick=${() => act(() => api.post(`/webhooks/${hook.id}/test`))}>Send test event</button>
        <button type="button" class="small" onClick=${state.reload}>Refresh</button></span></div>
    ${note?.ok ? html`<p role="status" class="small">${note.ok}</p>` : html`<${ErrorNote} error=${note?.error} />`}
    <${Loaded} state=${state} empty="No delivery yet: send a test event."
      render=${(d) => html`<${Table} caption="Deliveries, newest first" rows=${d.data} columns=${[
        { key: "created_at", label: "Created", render: (r) => when(r.created_at) },
        { key: "event_type", label: "Event" },
        { key: "status", label: "Status", render: (r) => html`<span class=${DELIVERY_CLASS[r.status] || ""}>${r.status}</span>` },
        { key: "attempts", label: "Attempts", num: true },
        { key: "last_status_code", label: "HTTP", num: true, render: (r) => r.last_status_code ?? "–" },
        { key: "last_latency_ms", label: "ms", num: true, render: (r) => num(r.last_latency_ms, 0) },
        { key: "last_error", label: "Last error", render: (r) => (r.last_error ? html`<span class="down wrap">${r.last_error}</span>` : "–") },
        { key: "replay", label: "Redeliver", render: (r) => html`<button type="button" class="small"
          aria-label=${`Redeliver ${r.id}`} onClick=${() => act(() => api.post(`/webhooks/${hook.id}/deliveries/${r.id}/replay`))}>Redeliver</button>` },
      ]} />`} />
  </div>`;
}

function NewWebhook({ onCreated }) {
  const form = useForm({ url: "", events: ["new_signal"] });
  const [secret, setSecret] = useState(null);
  async function submit(event) {
    event.preventDefault();
    const created = await form.submit((v) => api.post("/webhooks", { url: v.url.trim(), events: v.events }));
    if (created) {
      form.setValues({ url: "", events: ["new_signal"] });
      setSecret(created.secret);
      onCreated(created);
    }
  }
  const toggle = (name) => form.setValues((v) => ({
    ...v, events: v.events.includes(name) ? v.events.filter((e) => e !== name) : [...v.events, name],
  }));
  const other = form.error && !Object.keys(form.error.fields).length;
  return html`<form onSubmit=${submit} novalidate>
    <h3>New webhook</h3>
    <${Field} label="URL" error=${form.fieldError("url")} hint="https://… (http in development)">
      <input type="url" ...${form.bind("url")} autocomplete="off" /><//>
    <fieldset class="events"><legend>Events</legend>
      ${EVENTS.map((name) => html`<label class="check"><input type="checkbox" checked=${form.values.events.includes(name)}
        onChange=${() => toggle(name)} /> ${name}</label>`)}
      ${form.fieldError("events") ? html`<p class="field-error">${form.fieldError("events")}</p>` : null}
    </fieldset>
    <button type="submit" class="primary" disabled=${form.busy}>Create webhook</button>
    ${other ? html`<${ErrorNote} error=${form.error} />` : null}
    ${secret ? html`<p role="status"><span class="warn-text">Signing secret, shown only once:</span> <code class="secret">${secret}</code></p>` : null}
  </form>`;
}

export function Webhooks() {
  const state = useApi(() => api.get("/webhooks"), []);
  const [open, setOpen] = useState(null);
  const hooks = state.data?.data || [];
  return html`<section class="card" aria-labelledby="webhooks-h">
    <h2 id="webhooks-h">Your webhooks</h2>
    <${Loaded} state=${state} empty="No webhook yet." render=${() => html`
      <${Table} caption="Subscriptions" rows=${hooks} columns=${[
        { key: "url", label: "URL", render: (h) => html`<code>${h.url}</code>` },
        { key: "events", label: "Events", render: (h) => h.events.join(", ") },
        { key: "status", label: "Status", render: (h) => html`<span class=${h.status === "active" ? "up" : "down"}>${h.status}</span>${h.disabled_reason ? ` · ${h.disabled_reason}` : ""}` },
        { key: "created_at", label: "Created", render: (h) => when(h.created_at) },
        { key: "show", label: "Deliveries", render: (h) => html`<button type="button" class="small" aria-expanded=${open === h.id}
          aria-label=${`Deliveries of ${h.url}`} onClick=${() => setOpen(open === h.id ? null : h.id)}>${open === h.id ? "Hide" : "Show"}</button>` },
      ]} />`} />
    ${hooks.filter((h) => h.id === open).map((h) => html`<${Deliveries} key=${h.id} hook=${h} />`)}
    <${NewWebhook} onCreated=${(h) => (state.reload(), setOpen(h.id))} />
  </section>`;
}

const ACTIVE = ["queued", "running"];

export function Exports() {
  const state = useApi(() => api.get("/exports", { limit: 50 }), []);
  const form = useForm({ symbol: "GOOG", timeframe: "1d", format: "csv" });
  const pending = (state.data?.data || []).some((x) => ACTIVE.includes(x.status));
  useEffect(() => {
    if (!pending) return undefined;
    const timer = setTimeout(state.reload, 1000);
    return () => clearTimeout(timer);
  }, [state.data]);
  async function submit(event) {
    event.preventDefault();
    const created = await form.submit((v) => api.post("/exports", {
      kind: "bars", format: v.format, params: { symbol: v.symbol.trim().toUpperCase(), timeframe: v.timeframe },
    }));
    if (created) state.reload();
  }
  const other = form.error && !Object.keys(form.error.fields).length;
  return html`<section class="card" aria-labelledby="exports-h">
    <h2 id="exports-h">Your exports</h2>
    <form class="row" onSubmit=${submit} novalidate>
      <${Field} label="Symbol" error=${form.fieldError("symbol")}><input ...${form.bind("symbol")} autocomplete="off" /><//>
      <${Field} label="Timeframe" error=${form.fieldError("timeframe")}><select ...${form.bind("timeframe")}>
        ${["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "1M"].map((t) => html`<option value=${t}>${t}</option>`)}</select><//>
      <${Field} label="Format" error=${form.fieldError("format")}><select ...${form.bind("format")}>
        ${["csv", "parquet", "xlsx", "json"].map((f) => html`<option value=${f}>${f}</option>`)}</select><//>
      <button type="submit" class="primary" disabled=${form.busy}>Export bars</button>
    </form>
    ${other ? html`<${ErrorNote} error=${form.error} />` : null}
    <${Loaded} state=${state} empty="No export yet: export a symbol's bars above."
      render=${(d) => html`<${Table} caption="Exports, newest first" rows=${d.data} columns=${[
        { key: "created_at", label: "Created", render: (x) => when(x.created_at) },
        { key: "kind", label: "What", render: (x) => `${x.kind} ${x.params.symbol ?? ""} ${x.params.timeframe ?? ""}` },
        { key: "format", label: "Format" },
        { key: "status", label: "Status", render: (x) => (ACTIVE.includes(x.status) ? `${x.status} ${Math.round(x.progress * 100)}%` : x.status) },
        { key: "rows", label: "Rows", num: true, render: (x) => num(x.manifest?.rows, 0) },
        { key: "bytes", label: "Bytes", num: true, render: (x) => num(x.manifest?.bytes, 0) },
        { key: "download", label: "Download", render: (x) => (x.download_url
          ? html`<a href=${x.download_url} download title=${`link valid until ${when(x.download_expires_at)}`}>Download ${x.format}</a>`
          : x.error ? html`<span class="down">${x.error}</span>` : "–") },
      ]} />`} />
  </section>`;
}
