// Operations (administrators): providers health, jobs, monitoring alerts, cache, audit log,
// users, webhooks and exports, one tab each (#/ops?tab=...). The shell hides the page from
// everyone else and the API refuses them anyway (system:admin / manage:users).
import { api } from "../api.js";
import { html, useState } from "../lib.js";
import { navigate } from "../router.js";
import { ErrorNote, Field, Loaded, Table, Tabs, num, pct, useApi, when } from "../ui.js";
import { Audit, Users } from "./ops-admin.js";
import { Exports, Webhooks } from "./ops-hooks.js";
import Jobs from "./ops-jobs.js";

const TABS = [
  ["providers", "Providers"],
  ["jobs", "Jobs"],
  ["alerts", "Alerts"],
  ["cache", "Cache"],
  ["audit", "Audit"],
  ["users", "Users"],
  ["webhooks", "Webhooks"],
  ["exports", "Exports"],
];

export const Level = ({ value }) =>
  html`<span class=${`tag level-${value}`}>${value}</span>`;

function Providers() {
  const state = useApi(() => api.get("/providers"), []);
  return html`<section class="card" aria-labelledby="providers-h">
    <div class="spread"><h2 id="providers-h">Providers</h2>
      <button type="button" class="small" onClick=${state.reload}>Refresh</button></div>
    <${Loaded} state=${state} empty="No provider configured."
      render=${(d) => html`<${Table} caption="Provider health (this process)" rowKey=${(p) => p.name} rows=${d.data} columns=${[
        { key: "name", label: "Provider" },
        { key: "kinds", label: "Data", render: (p) => p.kinds.join(", ") },
        { key: "breaker", label: "Breaker", render: (p) => html`<${Level} value=${p.breaker === "closed" ? "ok" : p.breaker === "open" ? "critical" : "warning"} /> ${p.breaker}` },
        { key: "health", label: "Health", render: (p) => (p.health.degraded ? html`<span class="down">degraded</span>` : html`<span class="up">healthy</span>`) },
        { key: "samples", label: "Calls", num: true, render: (p) => p.health.samples },
        { key: "success", label: "Success", num: true, render: (p) => pct(p.health.success_rate, 0) },
        { key: "p95", label: "p95 ms", num: true, render: (p) => num(p.health.p95_ms, 0) },
        { key: "last_error", label: "Last error", render: (p) => p.details.last_error ? html`<span class="down" title=${when(p.details.last_error_at)}>${p.details.last_error}</span>` : "–" },
      ]} />`} />
  </section>`;
}

function Alerts() {
  const monitor = useApi(() => api.get("/admin/monitor"), []);
  const [level, setLevel] = useState("");
  const alerts = useApi(() => api.get("/admin/alerts", { level, limit: 100 }), [level]);
  const m = monitor.data?.data;
  return html`<section class="card" aria-labelledby="monitor-h">
    <h2 id="monitor-h">Monitor</h2>
    <${Loaded} state=${monitor} render=${() => html`
      <p class="muted small">${m.running ? "Running" : "Stopped"} · every ${m.interval_seconds} s over ${m.window_seconds} s ·
        last check ${when(m.last_tick_at)} · channels: ${m.channels.length ? m.channels.join(", ") : "none configured"}</p>
      <${Table} caption="Metrics" rowKey=${(r) => r.metric} rows=${m.metrics} columns=${[
        { key: "metric", label: "Metric" },
        { key: "level", label: "Level", render: (r) => html`<${Level} value=${r.level} />` },
        { key: "value", label: "Value", num: true, render: (r) => num(r.value, 3) },
        { key: "warning", label: "Warning at", num: true, render: (r) => num(r.warning, 2) },
        { key: "critical", label: "Critical at", num: true, render: (r) => num(r.critical, 2) },
        { key: "last_alert_at", label: "Last alert", render: (r) => when(r.last_alert_at) },
      ]} />`} />
  </section>
  <section class="card" aria-labelledby="alerts-h">
    <div class="spread"><h2 id="alerts-h">Alerts</h2>
      <${Field} label="Level"><select value=${level} onChange=${(e) => setLevel(e.target.value)}>
        <option value="">All</option>${["warning", "critical", "resolved"].map((l) => html`<option value=${l}>${l}</option>`)}
      </select><//></div>
    <${Loaded} state=${alerts} empty="No alert raised: every metric stayed under its thresholds."
      render=${(d) => html`<${Table} caption="Alerts, newest first" rows=${d.data} columns=${[
        { key: "created_at", label: "When", render: (a) => when(a.created_at) },
        { key: "metric", label: "Metric" },
        { key: "level", label: "Level", render: (a) => html`<${Level} value=${a.level} /> <span class="muted small">from ${a.previous_level}</span>` },
        { key: "value", label: "Value", num: true, render: (a) => num(a.value, 3) },
        { key: "message", label: "Message" },
      ]} />`} />
  </section>`;
}

function Cache() {
  const state = useApi(() => api.get("/admin/cache"), []);
  const [tag, setTag] = useState("");
  const [done, setDone] = useState(null);
  const [error, setError] = useState(null);
  async function clear(value) {
    setError(null);
    setDone(null);
    try {
      setDone(await api.del("/admin/cache", { tag: value }));
      state.reload();
    } catch (caught) {
      setError(caught);
    }
  }
  const d = state.data;
  return html`<section class="card" aria-labelledby="cache-h">
    <h2 id="cache-h">Cache</h2>
    <${Loaded} state=${state} list=${() => null} render=${() => html`
      <p class="muted small">Backend <strong>${d.backend}</strong> · ${d.enabled ? "enabled" : "disabled"} ·
        ${d.shared ? "shared between processes" : "this process only"}${d.degraded ? html` · <span class="down">degraded</span>` : null}</p>
      <${Table} caption="Per category" rowKey=${(r) => r.name}
        rows=${Object.entries(d.categories).map(([name, c]) => ({ name, ...c }))} columns=${[
          { key: "name", label: "Category" },
          { key: "ttl_seconds", label: "TTL s", num: true },
          { key: "hits", label: "Hits", num: true },
          { key: "misses", label: "Misses", num: true },
          { key: "stale", label: "Stale", num: true },
          { key: "size", label: "Entries", num: true },
          { key: "clear", label: "Clear", render: (r) => html`<button type="button" class="small"
            aria-label=${`Clear the ${r.name} category`} onClick=${() => clear(`category:${r.name}`)}>Clear</button>` },
        ]} />`} />
    <form class="row" onSubmit=${(e) => (e.preventDefault(), clear(tag.trim()))} novalidate>
      <${Field} label="Tag" error=${error?.fields?.tag} hint="e.g. quotes:AAPL or category:news">
        <input value=${tag} onInput=${(e) => setTag(e.target.value)} autocomplete="off" /><//>
      <button type="submit" class="danger">Clear tag</button>
    </form>
    ${error && !error.fields?.tag ? html`<${ErrorNote} error=${error} />` : null}
    ${done ? html`<p role="status">Cleared <code>${done.tag}</code>: ${done.invalidated} entries.</p>` : null}
  </section>`;
}

export default function Ops({ query, user }) {
  const tab = TABS.some(([t]) => t === query.tab) ? query.tab : "providers";
  const Body = { providers: Providers, jobs: Jobs, alerts: Alerts, cache: Cache, audit: Audit, users: Users,
    webhooks: Webhooks, exports: Exports }[tab];
  return html`<section class="pg">
    <h1>Operations</h1>
    <${Tabs} label="Operations sections" tabs=${TABS} current=${tab} onChange=${(next) => navigate("ops", { tab: next })} />
    <div role="tabpanel" aria-label=${TABS.find(([t]) => t === tab)[1]}><${Body} user=${user} query=${query} /></div>
  </section>`;
}
