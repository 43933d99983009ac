// Placeholder until the signals page lands.
import { html } from "../lib.js";

export default function Page() {
  return html`<section class="card"><h1>signals</h1><p class="muted">This page is being built.</p></section>`;
}
