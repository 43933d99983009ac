// API keys: list (revoked and expired ones too), create (name, scopes, expiry) with the secret
// shown once and a Copy button, rotate, and revoke after a confirmation.
import { api } from "../api.js";
import { html, useRef, useState } from "../lib.js";
import { ErrorNote, Field, Loaded, Table, useApi, useForm, when } from "../ui.js";

function state(key) {
  if (key.revoked_at) return html`<span class="down">revoked ${when(key.revoked_at).slice(0, 10)}</span>`;
  if (key.expires_at && new Date(key.expires_at) < new Date()) return html`<span class="down">expired</span>`;
  return html`<span class="up">active</span>`;
}

/** The secret, once: a selectable read-only box, Copy (clipboard, else select it) and a warning. */
function SecretOnce({ created, onDone }) {
  const box = useRef(null);
  const [copied, setCopied] = useState("");
  async function copy() {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied("Copied to the clipboard.");
    } catch {
      box.current?.select();
      setCopied("Copying is not allowed here: the key is selected, press Ctrl+C (⌘C).");
    }
  }
  return html`<div class="secret-once" role="region" aria-label="New API key">
    <p class="warn-text">Copy the key of "${created.name}" now: it is shown only once and cannot be shown again.</p>
    <div class="secret-row">
      <label class="visually-hidden" for="new-key">API key ${created.name}</label>
      <input id="new-key" ref=${box} readonly value=${created.key} onFocus=${(e) => e.target.select()} data-secret="" />
      <button type="button" class="primary" onClick=${copy}>Copy</button>
      <button type="button" onClick=${onDone}>I have stored it</button>
    </div>
    <p class="small" role="status">${copied}</p>
    <p class="muted small">Send it as the <code>X-API-Key</code> header. ${`Scopes: ${created.scopes.join(", ")}; ${
      created.expires_at ? `expires ${when(created.expires_at)}` : "does not expire"}.`}</p>
  </div>`;
}

function NewKey({ scopes, onCreated }) {
  const form = useForm({ name: "", days: "", scopes: [] });
  async function submit(event) {
    event.preventDefault();
    const body = { name: form.values.name.trim() };
    if (form.values.scopes.length) body.scopes = form.values.scopes;
    if (String(form.values.days).trim()) body.expires_in_days = Number(form.values.days);
    const created = await form.submit(() => api.post("/api-keys", body));
    if (created) {
      form.setValues({ name: "", days: "", scopes: [] });
      onCreated(created);
    }
  }
  const toggle = (scope) => form.setValues((v) => ({
    ...v, scopes: v.scopes.includes(scope) ? v.scopes.filter((s) => s !== scope) : [...v.scopes, scope],
  }));
  const other = form.error && !Object.keys(form.error.fields).length;
  return html`<form onSubmit=${submit} novalidate aria-labelledby="new-key-h">
    <h2 id="new-key-h">New key</h2>
    <div class="row">
      <${Field} label="Name" error=${form.fieldError("name")} hint="Letters, digits, spaces and . : @ / -">
        <input ...${form.bind("name")} maxlength="100" autocomplete="off" /><//>
      <${Field} label="Expires in days" error=${form.fieldError("expires_in_days") ?? form.fieldError("expires_at")} hint="1 to 3650; empty: never">
        <input type="number" min="1" max="3650" inputmode="numeric" ...${form.bind("days")} /><//>
    </div>
    <fieldset class="scopes"><legend>Scopes (none ticked: every scope of your role but manage:api-keys)</legend>
      ${scopes.map((scope) => html`<label class="check"><input type="checkbox" checked=${form.values.scopes.includes(scope)}
        onChange=${() => toggle(scope)} /> ${scope}</label>`)}
      ${form.fieldError("scopes") ? html`<p class="field-error">${form.fieldError("scopes")}</p>` : null}
    </fieldset>
    <button type="submit" class="primary" disabled=${form.busy}>${form.busy ? "Creating…" : "Create key"}</button>
    ${other ? html`<${ErrorNote} error=${form.error} />` : null}
  </form>`;
}

export default function Keys({ user }) {
  const list = useApi(() => api.get("/api-keys", { limit: 500 }), []);
  const [secret, setSecret] = useState(null);
  const [error, setError] = useState(null);
  async function revoke(key) {
    if (!confirm(`Revoke the key "${key.name}" (${key.prefix}…)? Requests with it are refused from now on.`)) return;
    setError(null);
    try {
      await api.del(`/api-keys/${key.id}`);
      list.reload();
    } catch (caught) {
      setError(caught);
    }
  }
  async function rotate(key) {
    if (!confirm(`Rotate "${key.name}"? A new secret replaces it; the old one stops working.`)) return;
    setError(null);
    try {
      setSecret(await api.post(`/api-keys/${key.id}/rotate`));
      list.reload();
    } catch (caught) {
      setError(caught);
    }
  }
  const created = (key) => {
    setSecret(key);
    list.reload();
  };
  return html`<section class="pg">
    <h1>API keys</h1>
    <section class="card">
      <${NewKey} scopes=${user?.scopes || []} onCreated=${created} />
      ${secret ? html`<${SecretOnce} created=${secret} onDone=${() => setSecret(null)} />` : null}
    </section>
    <section class="card" aria-labelledby="keys-h">
      <h2 id="keys-h">Your keys</h2>
      <${ErrorNote} error=${error} />
      <${Loaded} state=${list} empty="No API key yet: create one above to call the API from scripts."
        render=${(d) => html`<${Table} caption="Keys, oldest first" rows=${d.data} columns=${[
          { key: "name", label: "Name" },
          { key: "prefix", label: "Starts with", render: (k) => html`<code>${k.prefix}…</code>` },
          { key: "scopes", label: "Scopes", render: (k) => html`<span class="wrap small">${k.scopes.join(", ")}</span>` },
          { key: "state", label: "State", render: state },
          { key: "created_at", label: "Created", render: (k) => when(k.created_at) },
          { key: "expires_at", label: "Expires", render: (k) => (k.expires_at ? when(k.expires_at) : "never") },
          { key: "last_used_at", label: "Last used", render: (k) => when(k.last_used_at) },
          { key: "actions", label: "Actions", render: (k) => (k.revoked_at ? "–" : html`<span class="role-cell">
            <button type="button" class="small" aria-label=${`Rotate ${k.name}`} onClick=${() => rotate(k)}>Rotate</button>
            <button type="button" class="small danger" aria-label=${`Revoke ${k.name}`} onClick=${() => revoke(k)}>Revoke</button></span>`) },
        ]} />`} />
    </section>
  </section>`;
}
