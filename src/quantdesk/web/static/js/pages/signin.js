// Sign in with email and password; the refresh token goes into an httpOnly cookie.
import { html } from "../lib.js";
import { navigate } from "../router.js";
import { signIn } from "../session.js";
import { ErrorNote, Field, useForm } from "../ui.js";

export default function SignIn({ query, user }) {
  const form = useForm({ email: "", password: "" });
  const next = query.next || "markets";
  async function submit(event) {
    event.preventDefault();
    const signed = await form.submit((v) => signIn(v.email.trim(), v.password));
    if (signed) navigate(next);
  }
  if (user) {
    return html`<section class="card narrow"><h1>Signed in</h1><p>You are signed in as ${user.email}.</p>
      <p><a class="button" href="#/markets">Go to the markets</a></p></section>`;
  }
  return html`<section class="card narrow">
    <h1>Sign in</h1>
    <form onSubmit=${submit} novalidate>
      <${Field} label="Email" error=${form.fieldError("email")}>
        <input type="email" autocomplete="username" required ...${form.bind("email")} />
      <//>
      <${Field} label="Password" error=${form.fieldError("password")}>
        <input type="password" autocomplete="current-password" required ...${form.bind("password")} />
      <//>
      ${form.error && !Object.keys(form.error.fields).length ? html`<${ErrorNote} error=${form.error} />` : null}
      <button type="submit" class="primary" disabled=${form.busy}>${form.busy ? "Signing in…" : "Sign in"}</button>
    </form>
    <p class="muted small">The demo account is <code>demo@example.com</code>; its password was printed by
      <code>quantdesk demo load</code> (or set it beforehand with <code>QUANTDESK_DEMO_PASSWORD</code>).
      New users: <code>POST /api/v1/auth/register</code>.</p>
  </section>`;
}
