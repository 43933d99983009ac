// Placeholder until the markets page lands.
import { html } from "../lib.js";

export default function Page() {
  return html`<section class="card"><h1>markets</h1><p class="muted">This page is being built.</p></section>`;
}
