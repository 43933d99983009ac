// Operations: the audit log with its hash chain's verification, and users with their roles.
import { api } from "../api.js";
import { html, useEffect, useState } from "../lib.js";
import { ErrorNote, Field, Loaded, Table, num, useApi, useForm, when } from "../ui.js";

const ROLES = ["guest", "user", "premium", "analyst", "admin"];

function Chain() {
  const state = useApi(() => api.get("/admin/audit/verify"), []);
  const c = state.data?.data;
  return html`<div class="chain" role="status" aria-live="polite">
    <${Loaded} state=${state} list=${() => null} render=${() => (c.ok
      ? html`<p><span class="tag level-ok">chain ok</span> ${c.rows} events, every hash and link verified.</p>`
      : html`<p class="error"><strong>Chain broken</strong> at event #${c.first_broken_id}: ${c.reason} (${c.rows} events read).</p>`)} />
    <button type="button" class="small" onClick=${state.reload}>Verify again</button>
  </div>`;
}

export function Audit() {
  const [draft, setDraft] = useState({ action: "", outcome: "" });
  const [filter, setFilter] = useState(draft);
  const [pages, setPages] = useState([]);
  const state = useApi(() => api.get("/admin/audit", { ...filter, limit: 50 }), [filter.action, filter.outcome]);
  const rows = state.data ? [...state.data.data, ...pages.flatMap((p) => p.data)] : [];
  const next = (pages.at(-1) ?? state.data)?.meta?.next_cursor;
  const [moreError, setMoreError] = useState(null);
  async function more() {
    try {
      const page = await api.get("/admin/audit", { ...filter, limit: 50, cursor: next });
      setPages((all) => [...all, page]);
    } catch (error) {
      setMoreError(error);
    }
  }
  const fields = state.error?.fields || {};
  return html`<section class="card" aria-labelledby="audit-h">
    <h2 id="audit-h">Audit log</h2>
    <${Chain} />
    <form class="row" onSubmit=${(e) => (e.preventDefault(), setPages([]), setFilter(draft))} novalidate>
      <${Field} label="Action" error=${fields.action} hint="e.g. auth.login">
        <input value=${draft.action} onInput=${(e) => setDraft({ ...draft, action: e.target.value.trim() })} autocomplete="off" /><//>
      <${Field} label="Outcome" error=${fields.outcome}><select value=${draft.outcome}
        onChange=${(e) => setDraft({ ...draft, outcome: e.target.value })}>
        <option value="">Any</option>${["success", "failure", "denied"].map((o) => html`<option value=${o}>${o}</option>`)}
      </select><//>
      <button type="submit">Filter</button>
    </form>
    <${Loaded} state=${state} empty="No audit event matches." render=${() => html`
      <${Table} caption="Events, newest first" rows=${rows} columns=${[
        { key: "id", label: "#", num: true },
        { key: "created_at", label: "When", render: (e) => when(e.created_at) },
        { key: "action", label: "Action", render: (e) => html`<code>${e.action}</code>` },
        { key: "outcome", label: "Outcome", render: (e) => html`<span class=${e.outcome === "success" ? "" : "down"}>${e.outcome}</span>` },
        { key: "actor", label: "Actor", render: (e) => (e.actor_user_id ? `user ${e.actor_user_id}` : "–") + (e.actor_api_key_id ? ` · key ${e.actor_api_key_id}` : "") },
        { key: "ip", label: "IP", render: (e) => e.ip || "–" },
        { key: "resource", label: "Resource", render: (e) => (e.resource_type ? `${e.resource_type} ${e.resource_id ?? ""}` : "–") },
        { key: "hash", label: "Hash", render: (e) => html`<code title=${e.hash}>${e.hash.slice(0, 10)}…</code>` },
      ]} />
      ${next ? html`<button type="button" onClick=${more}>Older events</button>` : null}
      <${ErrorNote} error=${moreError} />`} />
  </section>`;
}

function RoleCell({ row, me, onSaved }) {
  const [role, setRole] = useState(row.role);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function save() {
    if (!confirm(`Change ${row.email} from ${row.role} to ${role}?`)) return;
    setBusy(true);
    setError(null);
    try {
      onSaved(await api.patch(`/admin/users/${row.id}/role`, { role }));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }
  const id = `role-${row.id}`;
  return html`<div class="role-cell">
    <select id=${id} aria-label=${`Role of ${row.email}`} value=${role} onChange=${(e) => setRole(e.target.value)}
      disabled=${row.id === me?.id} aria-invalid=${error ? "true" : undefined}
      aria-describedby=${error ? `${id}-error` : undefined} title=${row.id === me?.id ? "Your own role" : undefined}>
      ${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}</select>
    <button type="button" class="small" disabled=${busy || role === row.role} onClick=${save}
      aria-label=${`Save the role of ${row.email}`}>Save</button>
    ${error ? html`<p class="field-error" id=${`${id}-error`}>${error.fields?.role ?? error.message}</p>` : null}
  </div>`;
}

export function Users({ user }) {
  const state = useApi(() => api.get("/admin/users", { limit: 500 }), []);
  const replace = (saved) => state.setData((d) => ({ ...d, data: d.data.map((u) => (u.id === saved.id ? saved : u)) }));
  return html`<section class="card" aria-labelledby="users-h">
    <h2 id="users-h">Users</h2>
    <${Loaded} state=${state} empty="No user yet: quantdesk users create --email … --role admin"
      render=${(d) => html`<${Table} caption="Accounts" rows=${d.data} columns=${[
        { key: "id", label: "#", num: true },
        { key: "email", label: "Email" },
        { key: "role", label: "Role", render: (u) => html`<${RoleCell} key=${`${u.id}-${u.role}`} row=${u} me=${user} onSaved=${replace} />` },
        { key: "active", label: "Active", render: (u) => (u.active ? "yes" : html`<span class="down">no</span>`) },
        { key: "created_at", label: "Created", render: (u) => when(u.created_at) },
        { key: "last_login_at", label: "Last sign-in", render: (u) => when(u.last_login_at) },
      ]} />`} />
  </section>`;
}

// Operations: the signed-in administrator's own webhooks (subscriptions, deliveries, test,
// redeliver) and exports (create a bars export, follow it, download through its signed link).
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
