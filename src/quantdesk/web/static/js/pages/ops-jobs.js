// Operations: background jobs. Workers and the schedule (GET /jobs/stats), recent runs
// (GET /jobs), and "run now" (POST /jobs/{name}/run with optional JSON arguments).
import { api } from "../api.js";
import { html, useState } from "../lib.js";
import { ErrorNote, Field, Loaded, Table, num, useApi, useForm, when } from "../ui.js";

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

export default function Jobs() {
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
