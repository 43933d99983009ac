// Operations: the audit log with its hash chain's verification, and users with their roles.
import { api } from "../api.js";
import { html, useState } from "../lib.js";
import { ErrorNote, Field, Loaded, Table, useApi, when } from "../ui.js";

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
