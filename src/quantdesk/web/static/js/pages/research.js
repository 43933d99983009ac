// Placeholder until the research page lands.
import { html } from "../lib.js";

export default function Page() {
  return html`<section class="card"><h1>research</h1><p class="muted">This page is being built.</p></section>`;
}
