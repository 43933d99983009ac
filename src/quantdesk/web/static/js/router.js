// Hash routes (#/markets/GOOG): the server serves one page at /app/ and needs no fallback
// rules, and a route is a bookmarkable URL. Pages are loaded on first visit (dynamic import,
// allowed by script-src 'self'), so the first paint only pays for the shell.
import { useEffect, useState } from "./lib.js";

export const ROUTES = [
  { path: "markets", label: "Markets", module: "./pages/markets.js" },
  { path: "signals", label: "Signals", module: "./pages/signals.js" },
  { path: "backtests", label: "Backtests", module: "./pages/backtests.js", signedIn: true },
  { path: "paper", label: "Paper trading", module: "./pages/paper.js", signedIn: true },
  { path: "research", label: "Research", module: "./pages/research.js" },
  { path: "ops", label: "Operations", module: "./pages/ops.js", admin: true },
  { path: "keys", label: "API keys", module: "./pages/keys.js", signedIn: true, menu: false },
  { path: "signin", label: "Sign in", module: "./pages/signin.js", menu: false },
];

export function parse(hash) {
  const [path, search = ""] = hash.replace(/^#\/?/, "").split("?");
  const [name = "", ...rest] = path.split("/").map(decodeURIComponent);
  const route = ROUTES.find((r) => r.path === name) ?? ROUTES[0];
  return { route, args: rest.filter(Boolean), query: Object.fromEntries(new URLSearchParams(search)) };
}

export function href(path, query) {
  const search = query ? `?${new URLSearchParams(query)}` : "";
  return `#/${path}${search}`;
}

export function navigate(path, query) {
  location.hash = href(path, query);
}

export function useRoute() {
  const [current, setCurrent] = useState(parse(location.hash));
  useEffect(() => {
    const changed = () => setCurrent(parse(location.hash));
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return current;
}
