// Backtests (#/backtests, #/backtests/<id>): the caller's runs, the run and sweep forms, and
// one run's progress and result (backtests-result.js).
import { api, getAll } from "../api.js";
import { html, useState } from "../lib.js";
import { href } from "../router.js";
import { Loaded, Tabs, Table, num, useApi, when } from "../ui.js";
import { RunForm, SweepForm } from "./backtests-form.js";
import { RunView } from "./backtests-result.js";

const STATUS = { queued: "queued", running: "running", completed: "completed", failed: "failed" };

const COLUMNS = [
  { key: "created_at", label: "Created", render: (r) => html`<a href=${href(`backtests/${r.id}`)}>${when(r.created_at)}</a>` },
  { key: "kind", label: "Kind" },
  { key: "strategy", label: "Strategy", render: (r) => `${r.strategy} ${r.kind === "sweep" ? "grid" : Object.values(r.params).join("/")}` },
  { key: "symbol", label: "Symbol", render: (r) => `${r.symbol} ${r.timeframe}` },
  { key: "status", label: "Status", render: (r) => html`<span class=${`tag bt-${r.status}`}>${STATUS[r.status] ?? r.status}</span>` },
  { key: "equity_final", label: "Final equity", num: true, render: (r) => num(r.equity_final) },
];

function Runs() {
  const state = useApi(() => api.get("/backtests", { limit: 20 }), []);
  return html`<section class="card" aria-labelledby="bt-runs"><div class="spread"><h2 id="bt-runs">Your runs</h2>
      <button type="button" class="small" onClick=${state.reload}>Refresh</button></div>
    <${Loaded} state=${state} empty="No backtest yet: run one with the form." render=${(page) => html`
      <${Table} caption="Newest first" columns=${COLUMNS} rows=${page.data} />`} />
  </section>`;
}

function Forms() {
  const [tab, setTab] = useState("run");
  const setup = useApi(() => Promise.all([api.get("/backtests/strategies"), getAll("/instruments")]), []);
  return html`<${Loaded} state=${setup} list=${() => null} render=${([strategies, instruments]) => html`
    <${Tabs} label="Kind of run" tabs=${[["run", "Single run"], ["sweep", "Sweep"]]} current=${tab} onChange=${setTab} />
    ${tab === "run" ? html`<${RunForm} strategies=${strategies.data} instruments=${instruments} />` : html`<${SweepForm} instruments=${instruments} />`}`} />`;
}

export default function Backtests({ args }) {
  if (args[0]) return html`<${RunView} key=${args[0]} id=${args[0]} />`;
  return html`<h1>Backtests</h1>
    <${Forms} /><${Runs} />`;
}
