// The backtest and sweep forms: whatever POST /backtests and /backtests/sweep accept
// (docs/backtests.md). Left-empty fields are not sent, so the API's defaults apply; every 422
// message is shown next to the field it names.
import { api } from "../api.js";
import { html, useState } from "../lib.js";
import { navigate } from "../router.js";
import { Field, useForm } from "../ui.js";
import { FormNote, compact, errorAt, number } from "./form-errors.js";

const TIMEFRAMES = ["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "1M"];
export const METRICS = [
  "sharpe", "total_return_pct", "equity_final", "sortino", "calmar", "max_drawdown_pct",
  "exposure_pct", "trades", "win_rate_pct", "profit_factor", "expectancy_pct", "sqn",
];

const OPTIONS = {
  symbol: "GOOG", timeframe: "1d", start: "", end: "", cash: "10000", commission: "0.002",
  slippage_bps: "0", fill: "next_open", sizing: "all_in", sizing_value: "", allow_short: false,
  stop_loss_pct: "", take_profit_pct: "", max_bars: "",
};

/** The shared request fields (BacktestOptions) from the form's values. */
function options(v) {
  return compact({
    symbol: v.symbol.trim(),
    timeframe: v.timeframe,
    start: v.start || undefined,
    end: v.end || undefined,
    cash: number(v.cash),
    commission: number(v.commission),
    slippage_bps: number(v.slippage_bps),
    fill: v.fill,
    sizing: v.sizing === "all_in" ? "all_in" : { [v.sizing]: number(v.sizing_value) },
    allow_short: v.allow_short,
    stop_loss_pct: number(v.stop_loss_pct),
    take_profit_pct: number(v.take_profit_pct),
    max_bars: number(v.max_bars),
  });
}

// Field gives its control an id and aria attributes: these wrappers pass them on (...rest).
function Select({ form, name, choices, ...rest }) {
  return html`<select ...${rest} ...${form.bind(name)}>
    ${choices.map((c) => html`<option value=${Array.isArray(c) ? c[0] : c}>${Array.isArray(c) ? c[1] : c}</option>`)}
  </select>`;
}

function Num({ form, name, step = "any", ...rest }) {
  return html`<input type="number" inputmode="decimal" step=${step} ...${rest} ...${form.bind(name)} />`;
}

/** Symbol, timeframe, dates, costs and sizing: the part both forms share. */
function OptionFields({ form, instruments }) {
  const e = (...p) => errorAt(form.error, ...p);
  const v = form.values;
  const symbols = instruments.length ? instruments.map((i) => [i.symbol, `${i.symbol} · ${i.name}`]) : [[v.symbol, v.symbol]];
  return html`
    <div class="row">
      <${Field} label="Symbol" error=${e("symbol")}><${Select} form=${form} name="symbol" choices=${symbols} /><//>
      <${Field} label="Timeframe" error=${e("timeframe")}><${Select} form=${form} name="timeframe" choices=${TIMEFRAMES} /><//>
      <${Field} label="From" error=${e("start")} hint="empty: first stored bar"><input type="date" ...${form.bind("start")} /><//>
      <${Field} label="To" error=${e("end", "")} hint="empty: last stored bar"><input type="date" ...${form.bind("end")} /><//>
    </div>
    <fieldset class="bt-costs"><legend>Cash and costs</legend><div class="row">
      <${Field} label="Cash" error=${e("cash")}><${Num} form=${form} name="cash" min="0" /><//>
      <${Field} label="Commission (fraction per side)" error=${e("commission")} hint="0.002 = 0.2 %"><${Num} form=${form} name="commission" min="0" /><//>
      <${Field} label="Slippage (bps)" error=${e("slippage_bps")}><${Num} form=${form} name="slippage_bps" min="0" /><//>
      <${Field} label="Fill" error=${e("fill")}><${Select} form=${form} name="fill" choices=${[["next_open", "next bar's open"], ["close", "signal bar's close"]]} /><//>
      <${Field} label="Sizing" error=${e("sizing")}><${Select} form=${form} name="sizing" choices=${[["all_in", "all equity"], ["fraction", "fraction of equity"], ["size", "fixed units"]]} /><//>
      ${v.sizing === "all_in" ? null : html`<${Field} label=${v.sizing === "size" ? "Units per entry" : "Fraction (0–1]"} error=${e(`sizing.${v.sizing}`)}>
        <${Num} form=${form} name="sizing_value" min="0" /><//>`}
    </div></fieldset>
    <details class="bt-more"><summary>Risk options</summary><div class="row">
      <${Field} label="Stop loss %" error=${e("stop_loss_pct")}><${Num} form=${form} name="stop_loss_pct" min="0" /><//>
      <${Field} label="Take profit %" error=${e("take_profit_pct")}><${Num} form=${form} name="take_profit_pct" min="0" /><//>
      <${Field} label="Max bars held" error=${e("max_bars")}><${Num} form=${form} name="max_bars" step="1" min="1" /><//>
      <div class="field"><label class="check"><input type="checkbox" checked=${v.allow_short}
        onChange=${(ev) => form.setValues((x) => ({ ...x, allow_short: ev.target.checked }))} /> Allow short</label></div>
    </div></details>`;
}

function paramDefaults(strategy) {
  const props = strategy?.params?.properties ?? {};
  return Object.fromEntries(Object.entries(props).map(([k, p]) => [`p_${k}`, p.default === undefined ? "" : String(p.default)]));
}

/** Run one strategy: POST /backtests, then the run's page (which shows progress). */
export function RunForm({ strategies, instruments }) {
  const [name, setName] = useState(strategies[0]?.name ?? "sma_cross");
  const strategy = strategies.find((s) => s.name === name);
  const form = useForm({ ...OPTIONS, ...paramDefaults(strategy) });
  const props = Object.entries(strategy?.params?.properties ?? {});
  const choose = (event) => {
    const next = strategies.find((s) => s.name === event.target.value);
    setName(event.target.value);
    form.setValues((v) => ({ ...Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith("p_"))), ...paramDefaults(next) }));
  };
  const submit = (event) => {
    event.preventDefault();
    form.submit(async (v) => {
      const params = Object.fromEntries(props.map(([k]) => [k, number(v[`p_${k}`])]).filter(([, x]) => x !== undefined));
      const run = await api.post("/backtests", { ...options(v), strategy: name, params });
      navigate(`backtests/${run.id}`);
    });
  };
  return html`<form class="card bt-form" onSubmit=${submit} aria-labelledby="bt-run-title" novalidate>
    <h2 id="bt-run-title">New backtest</h2>
    <div class="row">
      <${Field} label="Strategy" error=${errorAt(form.error, "strategy")}>
        <select value=${name} onChange=${choose}>${strategies.map((s) => html`<option value=${s.name}>${s.name}</option>`)}</select><//>
      ${props.map(([k, p]) => html`<${Field} key=${`${name}-${k}`} label=${p.title ?? k} error=${errorAt(form.error, `params.${k}`)} hint=${p.description}>
        <${Num} form=${form} name=${`p_${k}`} step="1" min=${p.minimum} max=${p.maximum} /><//>`)}
    </div>
    ${errorAt(form.error, "params") ? html`<p class="field-error">${errorAt(form.error, "params")}</p>` : null}
    <p class="muted small">${strategy?.description}</p>
    <${OptionFields} form=${form} instruments=${instruments} />
    <${FormNote} error=${form.error} />
    <button type="submit" class="primary" disabled=${form.busy}>${form.busy ? "Queuing…" : "Run backtest"}</button>
  </form>`;
}

const AXIS = { fast_start: "5", fast_stop: "30", fast_step: "5", slow_start: "20", slow_stop: "100", slow_step: "20" };

/** An SMA-crossover sweep over two period ranges: POST /backtests/sweep. */
export function SweepForm({ instruments }) {
  const form = useForm({ ...OPTIONS, ...AXIS, rank_by: "sharpe" });
  const axis = (which) => html`<fieldset><legend>${which === "fast" ? "Fast period" : "Slow period"} range</legend><div class="row">
    ${["start", "stop", "step"].map((part) => html`<${Field} label=${`${which} ${part}`} error=${errorAt(form.error, `grid.${which}.${part}`)}>
      <${Num} form=${form} name=${`${which}_${part}`} step="1" min="1" /><//>`)}
    </div>${errorAt(form.error, `grid.${which}`) ? html`<p class="field-error">${errorAt(form.error, `grid.${which}`)}</p>` : null}</fieldset>`;
  const submit = (event) => {
    event.preventDefault();
    form.submit(async (v) => {
      const range = (w) => compact({ start: number(v[`${w}_start`]), stop: number(v[`${w}_stop`]), step: number(v[`${w}_step`]) });
      const run = await api.post("/backtests/sweep", { ...options(v), rank_by: v.rank_by, grid: { fast: range("fast"), slow: range("slow") } });
      navigate(`backtests/${run.id}`);
    });
  };
  return html`<form class="card bt-form" onSubmit=${submit} aria-labelledby="bt-sweep-title" novalidate>
    <h2 id="bt-sweep-title">Parameter sweep (sma_cross)</h2>
    <p class="muted small">Every fast &lt; slow pair of the two ranges, ranked by one metric; the result is a heatmap.</p>
    <div class="grid bt-axes">${axis("fast")}${axis("slow")}</div>
    <${Field} label="Rank by" error=${errorAt(form.error, "rank_by")}><${Select} form=${form} name="rank_by" choices=${METRICS} /><//>
    <${OptionFields} form=${form} instruments=${instruments} />
    <${FormNote} error=${form.error} />
    <button type="submit" class="primary" disabled=${form.busy}>${form.busy ? "Queuing…" : "Run sweep"}</button>
  </form>`;
}
