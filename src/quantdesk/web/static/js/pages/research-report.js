// A symbol's research report (GET /research/{symbol}/report?format=md). The markdown is drawn
// as elements from its text (headings, tables, lists, paragraphs, **bold**, `code`): no HTML
// string ever reaches innerHTML. The PDF is fetched with the session's token and saved.
import { api } from "../api.js";
import { html, useState } from "../lib.js";
import { ErrorNote, Field, Loaded, useApi } from "../ui.js";

/** `**bold**` and `code` spans of one line, as text nodes and elements. */
function inline(text) {
  return text.split(/(\*\*[^*]+\*\*|`[^`]+`)/).map((part) => {
    if (part.startsWith("**") && part.endsWith("**") && part.length > 4) return html`<strong>${part.slice(2, -2)}</strong>`;
    if (part.startsWith("`") && part.endsWith("`") && part.length > 2) return html`<code>${part.slice(1, -1)}</code>`;
    return part;
  });
}

const cells = (line) => line.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim());

function table(lines) {
  const [head, , ...body] = lines;
  const names = cells(head);
  return html`<div class="table-wrap" tabindex="0"><table><thead><tr>${names.map((n) => html`<th scope="col">${inline(n)}</th>`)}</tr></thead>
    <tbody>${body.map((row) => html`<tr>${cells(row).map((c, i) => html`<td class=${i ? "num" : ""}>${inline(c)}</td>`)}</tr>`)}</tbody>
  </table></div>`;
}

/** Nested "- item" lines (two spaces per level) as nested lists. */
function list(lines) {
  const root = [];
  const stack = [{ depth: -1, items: root }];
  for (const line of lines) {
    const depth = line.search(/\S/) >> 1;
    const item = { text: line.trim().slice(2), children: [] };
    while (stack.length > 1 && stack[stack.length - 1].depth >= depth) stack.pop();
    stack[stack.length - 1].items.push(item);
    stack.push({ depth, items: item.children });
  }
  const draw = (items) => html`<ul>${items.map((i) => html`<li>${inline(i.text)}${i.children.length ? draw(i.children) : null}</li>`)}</ul>`;
  return draw(root);
}

/** Markdown text → preact elements (the subset the report generator writes). */
export function markdown(text) {
  const blocks = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; ) {
    const line = lines[i];
    const heading = /^(#{1,4})\s+(.*)$/.exec(line);
    const take = (test) => {
      const group = [];
      while (i < lines.length && test(lines[i])) group.push(lines[i++]);
      return group;
    };
    if (!line.trim()) i++;
    else if (heading) {
      const level = Math.min(heading[1].length + 1, 4); // the page has its own h1
      blocks.push(html`<${`h${level}`}>${inline(heading[2])}<//>`);
      i++;
    } else if (line.trimStart().startsWith("|")) blocks.push(table(take((l) => l.trimStart().startsWith("|"))));
    else if (/^\s*[-*] /.test(line)) blocks.push(list(take((l) => /^\s*[-*] /.test(l))));
    else blocks.push(html`<p>${inline(take((l) => l.trim() && !/^(#|\s*[-*] |\s*\|)/.test(l)).join(" "))}</p>`);
  }
  return blocks;
}

async function downloadPdf(symbol) {
  const response = await api.raw(`/research/${encodeURIComponent(symbol)}/report`, { format: "pdf" });
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: `${symbol}-report.pdf` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export default function Report({ query }) {
  const [symbol, setSymbol] = useState(query.symbol || "GOOG");
  const [asked, setAsked] = useState((query.symbol || "GOOG").toUpperCase());
  const [pdfError, setPdfError] = useState(null);
  const state = useApi(() => api.get(`/research/${encodeURIComponent(asked)}/report`, { format: "md" }), [asked]);
  const fieldError = state.error?.fields?.symbol;
  return html`<section class="card" aria-labelledby="report-h">
    <h2 id="report-h" class="visually-hidden">Symbol report</h2>
    <form class="row" onSubmit=${(e) => (e.preventDefault(), setAsked(symbol.trim().toUpperCase()))} novalidate>
      <${Field} label="Symbol" error=${fieldError} hint="A stored instrument, e.g. GOOG">
        <input value=${symbol} onInput=${(e) => setSymbol(e.target.value)} autocomplete="off" /><//>
      <button type="submit" class="primary">Show report</button>
      <button type="button" disabled=${!state.data}
        onClick=${() => downloadPdf(asked).then(() => setPdfError(null), setPdfError)}>Download PDF</button>
    </form>
    <${ErrorNote} error=${pdfError} />
    ${fieldError ? null : html`<${Loaded} state=${state} list=${() => null}
      render=${(text) => html`<article class="report">${markdown(String(text))}</article>`} />`}
  </section>`;
}
