// FX: one pair across every stored source (GET /fx/compare), each source's mid over the last
// twelve months as lines (the same endpoint asked for month ends), and the converter
// (GET /fx/convert, Decimal strings).
import { api } from "../api.js";
import { html, useMemo, useState } from "../lib.js";
import { LineChart } from "../lines.js";
import { Empty, ErrorNote, Field, Loaded, Table, num, useApi, useForm } from "../ui.js";

const MONTHS = 12;

/** Month ends before `latest` (YYYY-MM-DD), oldest first, then `latest` itself. */
function monthEnds(latest) {
  const dates = [];
  const base = new Date(`${latest}T00:00:00Z`);
  for (let back = MONTHS - 1; back >= 1; back--) {
    dates.push(new Date(Date.UTC(base.getUTCFullYear(), base.getUTCMonth() - back + 1, 0)).toISOString().slice(0, 10));
  }
  dates.push(latest);
  return dates;
}

async function history(pair, latest) {
  const answers = await Promise.all(
    monthEnds(latest).map((date) => api.get("/fx/compare", { pair, date }).catch(() => null)),
  );
  const bySource = new Map();
  for (const answer of answers) {
    for (const s of answer?.data.sources || []) {
      if (s.mid === null) continue;
      if (!bySource.has(s.source)) bySource.set(s.source, new Map());
      bySource.get(s.source).set(s.as_of, s.mid); // a source that did not publish repeats its day
    }
  }
  return [...bySource].map(([label, points]) => ({ label, points: [...points].sort() }));
}

const PALETTE = ["--accent", "--up", "--warn", "--down"];

function History({ pair, latest }) {
  const state = useApi(() => history(pair, latest), [pair, latest]);
  const series = useMemo(() => {
    const style = getComputedStyle(document.documentElement);
    const colour = (i) => style.getPropertyValue(PALETTE[i % PALETTE.length]).trim();
    return (state.data || []).map((s, i) => ({ ...s, color: colour(i) }));
  }, [state.data]);
  return html`<h3>${pair}, month ends over ${MONTHS} months</h3>
    <${Loaded} state=${state} list=${(d) => d} empty="No history for this pair."
      render=${() => html`<${LineChart} series=${series} height=${240} label=${`${pair} mid by source`}
        yFormat=${(v) => num(v, 4)} />`} />`;
}

const best = (b) => (b ? `${b.source} at ${num(b.rate, 4)} (${b.as_of})` : "– (no source quotes buy/sell)");

function Compare({ initial }) {
  const [pair, setPair] = useState(initial);
  const [date, setDate] = useState("");
  const [asked, setAsked] = useState({ pair: initial, date: "" });
  const state = useApi(() => api.get("/fx/compare", asked), [asked.pair, asked.date]);
  const fields = state.error?.fields || {};
  const d = state.data?.data;
  const latest = d?.sources.reduce((m, s) => (s.as_of > m ? s.as_of : m), "");
  return html`<section class="card" aria-labelledby="fx-compare-h">
    <h2 id="fx-compare-h">Compare sources</h2>
    <form class="row" onSubmit=${(e) => (e.preventDefault(), setAsked({ pair: pair.trim(), date }))} novalidate>
      <${Field} label="Pair" error=${fields.pair} hint="BASE/QUOTE, e.g. USD/MAD">
        <input value=${pair} onInput=${(e) => setPair(e.target.value)} autocomplete="off" /><//>
      <${Field} label="Date" error=${fields.date} hint="Rates in force that day">
        <input type="date" value=${date} onInput=${(e) => setDate(e.target.value)} /><//>
      <button type="submit" class="primary">Compare</button>
    </form>
    ${Object.keys(fields).length ? null : html`<${Loaded} state=${state} list=${(r) => r?.data.sources}
      empty=${`No stored rate for ${asked.pair}.`}
      render=${() => html`
        <${Table} caption=${`${d.pair} by source`} rowKey=${(s) => s.source} rows=${d.sources} columns=${[
          { key: "source", label: "Source" },
          { key: "as_of", label: "Published" },
          { key: "mid", label: "Mid", num: true, render: (s) => num(s.mid, 4) },
          { key: "buy", label: "Buy", num: true, render: (s) => num(s.buy, 4) },
          { key: "sell", label: "Sell", num: true, render: (s) => num(s.sell, 4) },
          { key: "spread_bps", label: "Spread (bps)", num: true, render: (s) => num(s.spread_bps, 1) },
          { key: "route", label: "Route" },
        ]} />
        <p class="small">Best place to buy: <strong>${best(d.best_buy)}</strong> ·
          to sell: <strong>${best(d.best_sell)}</strong> · mid dispersion ${num(d.mid_dispersion_bps, 1)} bps</p>
        ${d.notes.length ? html`<ul class="muted small">${d.notes.map((n) => html`<li>${n}</li>`)}</ul>` : null}
        ${latest ? html`<${History} pair=${d.pair} latest=${latest} />` : null}`} />`}
    ${Object.keys(fields).length ? html`<${ErrorNote} error=${state.error} />` : null}
  </section>`;
}

function Convert() {
  const form = useForm({ from: "USD", to: "JPY", amount: "1000", date: "" });
  const [result, setResult] = useState(null);
  async function submit(event) {
    event.preventDefault();
    const answer = await form.submit((v) => api.get("/fx/convert", v));
    setResult(answer?.data ?? null);
  }
  const other = form.error && !Object.keys(form.error.fields).length;
  return html`<section class="card" aria-labelledby="fx-convert-h">
    <h2 id="fx-convert-h">Convert</h2>
    <form class="row" onSubmit=${submit} novalidate>
      <${Field} label="Amount" error=${form.fieldError("amount")}><input inputmode="decimal" ...${form.bind("amount")} /><//>
      <${Field} label="From" error=${form.fieldError("from")}><input size="4" ...${form.bind("from")} /><//>
      <${Field} label="To" error=${form.fieldError("to")}><input size="4" ...${form.bind("to")} /><//>
      <${Field} label="Date" error=${form.fieldError("date")}><input type="date" ...${form.bind("date")} /><//>
      <button type="submit" class="primary" disabled=${form.busy}>Convert</button>
    </form>
    ${other ? html`<${ErrorNote} error=${form.error} />` : null}
    ${result ? html`<p class="fx-result" role="status"><strong>${result.amount} ${result.from} = ${result.converted} ${result.to}</strong>
        <span class="muted small"> · rate ${result.rate} · ${result.route}</span></p>
      <${Table} caption="Rates used" rowKey=${(l) => l.pair} rows=${result.legs} columns=${[
        { key: "pair", label: "Leg" },
        { key: "rate", label: "Rate", num: true },
        { key: "published_pair", label: "Published as", render: (l) => `${l.published_pair} ${l.published_rate}${l.inverted ? " (inverted)" : ""}` },
        { key: "source", label: "Source" },
        { key: "as_of", label: "Published" },
      ]} />
      ${result.notes.length ? html`<ul class="muted small">${result.notes.map((n) => html`<li>${n}</li>`)}</ul>` : null}`
    : html`<${Empty}>Enter an amount and two ISO currency codes.<//>`}
  </section>`;
}

export default function Fx({ query }) {
  return html`<${Compare} initial=${query.pair || "EUR/USD"} /><${Convert} />`;
}
