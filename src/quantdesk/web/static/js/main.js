// The shell: restore the session, open the stream, draw the navigation and the current page.
import { html, render, useEffect, useState } from "./lib.js";
import { start } from "./live.js";
import { href, navigate, ROUTES, useRoute } from "./router.js";
import { isAdmin, restore, session, signOut } from "./session.js";
import { useStore } from "./store.js";
import { ConnectionBadge, ErrorNote, Loading } from "./ui.js";

const loaded = new Map();

function usePage(route) {
  const [page, setPage] = useState(() => loaded.get(route.module) ?? null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (loaded.has(route.module)) return setPage(() => loaded.get(route.module));
    setPage(null);
    import(route.module).then(
      (module) => {
        loaded.set(route.module, module.default);
        setPage(() => module.default);
      },
      setError,
    );
  }, [route.module]);
  return { page, error };
}

function allowed(route, user) {
  if (route.admin) return isAdmin(user);
  if (route.signedIn) return Boolean(user);
  return true;
}

function Nav({ current, user }) {
  const items = ROUTES.filter((r) => r.menu !== false && allowed(r, user));
  return html`<nav aria-label="Main">
    <ul>${items.map(
      (r) => html`<li><a href=${href(r.path)} aria-current=${r === current ? "page" : undefined}>${r.label}</a></li>`,
    )}</ul>
  </nav>`;
}

function UserMenu({ user }) {
  if (!user) return html`<a class="button small" href=${href("signin")}>Sign in</a>`;
  return html`<div class="user">
    <span class="muted small" title=${`role: ${user.role}`}>${user.email}</span>
    <a class="small" href=${href("keys")}>API keys</a>
    <button type="button" class="small" onClick=${() => signOut().then(() => navigate("markets"))}>Sign out</button>
  </div>`;
}

function Page({ route, args, query, user }) {
  const { page: Component, error } = usePage(route);
  if (!allowed(route, user)) {
    const why = route.admin ? "This page is for administrators." : "Sign in to see this page.";
    return html`<section class="card"><h1>${route.label}</h1><p>${why}</p>
      ${user ? null : html`<p><a class="button" href=${href("signin", { next: route.path })}>Sign in</a></p>`}</section>`;
  }
  if (error) return html`<${ErrorNote} error=${error} />`;
  if (!Component) return html`<${Loading} />`;
  return html`<${Component} args=${args} query=${query} user=${user} />`;
}

function App() {
  const { status, user } = useStore(session);
  const { route, args, query } = useRoute();
  useEffect(() => {
    document.title = `${route.label} · quantdesk`;
  }, [route]);
  if (status === "unknown") return html`<${Loading} what="Starting" />`;
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href=${href("markets")}><img src="favicon.svg" alt="" width="22" height="22" />quantdesk</a>
      <${Nav} current=${route} user=${user} />
      <div class="top-right"><${ConnectionBadge} /><${UserMenu} user=${user} /></div>
    </header>
    <main id="main" tabindex="-1"><${Page} key=${route.path} route=${route} args=${args} query=${query} user=${user} /></main>
    ${/* The TradingView link is lightweight-charts' licence attribution (its logo is off):
        a plain link the visitor may follow, not an asset; the page loads nothing off-site. */ ""}
    <footer class="muted small">quantdesk · <a href="../docs">API docs</a> · charts by <a href="https://www.tradingview.com/">TradingView Lightweight Charts</a></footer>`;
}

restore().finally(start);
const root = document.getElementById("root");
root.textContent = ""; // the "Loading" placeholder: render() would keep it beside the app
render(html`<${App} />`, root);
