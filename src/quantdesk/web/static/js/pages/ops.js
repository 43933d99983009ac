// Operations (administrators): providers health, jobs, monitoring alerts, cache, audit log,
// users, webhooks and exports, one tab each (#/ops?tab=...). The shell hides the page from
// everyone else and the API refuses them anyway (system:admin / manage:users).
import { api } from "../api.js";
import { html, useState } from "../lib.js";
import { navigate } from "../router.js";
import { ErrorNote, Field, Loaded, Table, Tabs, num, pct, useApi, useForm, when } from "../ui.js";
import { Audit, Exports, Users, Webhooks } from "./ops-admin.js";

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

// Operations: background jobs. Workers and the schedule (GET /jobs/stats), recent runs
// (GET /jobs), and "run now" (POST /jobs/{name}/run with optional JSON arguments).
const STATUS_CLASS = { succeeded: "up", failed: "down", retrying: "down" };

function RunNow({ names, onQueued }) {
  const form = useForm({ name: names.includes("market.refresh") ? "market.refresh" : names[0], args: "" });
  const [queued, setQueued] = useState(null);
  const [argsError, setArgsError] = useState(null);
  async function submit(event) {
    event.preventDefault();
    let args;
    try {
      args = form.values.args.trim() ? JSON.parse(form.values.args) : undefined;
      setArgsError(null);
    } catch {
      setArgsError('Arguments must be a JSON object, e.g. {"symbol": "GOOG"}');
      return;
    }
    const answer = await form.submit((v) => api.post(`/jobs/${encodeURIComponent(v.name)}/run`, args ? { args } : {}));
    if (answer) {
      setQueued(answer.data);
      onQueued();
    }
  }
  const other = form.error && !Object.keys(form.error.fields).length;
  return html`<form class="row" onSubmit=${submit} novalidate>
    <${Field} label="Job" error=${form.fieldError("name")}>
      <select ...${form.bind("name")}>${names.map((n) => html`<option value=${n}>${n}</option>`)}</select><//>
    <${Field} label="Arguments (JSON)" error=${argsError ?? form.fieldError("args")} hint=${'Optional, e.g. {"symbol": "GOOG"}'}>
      <input ...${form.bind("args")} autocomplete="off" /><//>
    <button type="submit" class="primary" disabled=${form.busy}>Run now</button>
    ${other ? html`<${ErrorNote} error=${form.error} />` : null}
    ${queued ? html`<p role="status" class="small">Queued ${queued.name} as run #${queued.run_id}.</p>` : null}
  </form>`;
}

function Jobs() {
  const stats = useApi(() => api.get("/jobs/stats"), []);
  const [status, setStatus] = useState("");
  const runs = useApi(() => api.get("/jobs", { status, limit: 50 }), [status]);
  const s = stats.data?.data;
  const refresh = () => setTimeout(() => (runs.reload(), stats.reload()), 800);
  return html`<section class="card" aria-labelledby="jobs-h">
    <div class="spread"><h2 id="jobs-h">Jobs</h2>
      <button type="button" class="small" onClick=${() => (runs.reload(), stats.reload())}>Refresh</button></div>
    <${Loaded} state=${stats} list=${() => null} render=${() => html`
      <dl class="stats">
        <div><dt>Backend</dt><dd>${s.backend}</dd></div>
        <div><dt>Workers</dt><dd class=${s.workers_healthy ? "up" : "down"}>${s.workers.filter((w) => w.ok).length} of ${s.workers.length} ok</dd></div>
        <div><dt>Active</dt><dd>${s.active}</dd></div>
        <div><dt>Retries waiting</dt><dd>${s.retries_waiting}</dd></div>
        ${Object.entries(s.runs).map(([k, v]) => html`<div><dt>${k} (${s.window_hours} h)</dt><dd class=${v ? STATUS_CLASS[k] || "" : ""}>${v}</dd></div>`)}
      </dl>
      <h3>Run a job now</h3>
      <${RunNow} names=${s.registered} onQueued=${refresh} />
      <h3>Schedule</h3>
      <${Table} caption="Scheduled jobs" rowKey=${(r) => r.name} rows=${s.schedule} columns=${[
        { key: "name", label: "Job", render: (r) => html`<code>${r.name}</code>` },
        { key: "cron", label: "Cron", render: (r) => html`<code>${r.cron}</code> ${r.timezone}` },
        { key: "next_run_at", label: "Next run", render: (r) => when(r.next_run_at) },
        { key: "runs_here", label: "Runs here", render: (r) => (r.runs_here ? "yes" : "no") },
      ]} />`} />
  </section>
  <section class="card" aria-labelledby="runs-h">
    <div class="spread"><h2 id="runs-h">Recent runs</h2>
      <${Field} label="Status"><select value=${status} onChange=${(e) => setStatus(e.target.value)}>
        <option value="">Any</option>
        ${["queued", "running", "succeeded", "failed", "retrying", "skipped"].map((v) => html`<option value=${v}>${v}</option>`)}
      </select><//></div>
    <${Loaded} state=${runs} empty="No run yet: scheduled jobs run on their cron, or use Run now above."
      render=${(d) => html`<${Table} caption="Runs, newest first" rows=${d.data} columns=${[
        { key: "id", label: "#", num: true },
        { key: "name", label: "Job", render: (r) => html`<code>${r.name}</code>` },
        { key: "status", label: "Status", render: (r) => html`<span class=${STATUS_CLASS[r.status] || ""}>${r.status}</span>` },
        { key: "created_at", label: "Queued", render: (r) => when(r.created_at) },
        { key: "duration_s", label: "Seconds", num: true, render: (r) => num(r.duration_s, 3) },
        { key: "attempts", label: "Attempts", num: true },
        { key: "error", label: "Error / result", render: (r) => (r.error
          ? html`<span class="down">${r.error}</span>`
          : r.result ? html`<span class="muted small">${r.result.rows_written ?? 0} rows${r.result.reason ? ` · ${r.result.reason}` : ""}</span>` : "–") },
      ]} />`} />
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
