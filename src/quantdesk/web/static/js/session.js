// Sign-in state. The access token lives in memory (api.js); the refresh token is an httpOnly
// cookie the page never sees (`POST /auth/login?refresh_cookie=true`, docs/dashboard.md), so a
// reload restores the session with one `POST /auth/refresh` and an XSS cannot steal it.
import { api, onToken, refreshToken, setToken } from "./api.js";
import { store } from "./store.js";

// { status: "unknown" | "guest" | "user", user: {id, email, role, scopes} | null }
export const session = store({ status: "unknown", user: null });

async function loadUser() {
  const user = await api.get("/auth/me");
  session.set({ status: "user", user });
  return user;
}

// Whether this browser holds a refresh cookie (the cookie itself is invisible to scripts): a
// guest's page load then makes no refresh call bound to fail with 401.
const MARK = "quantdesk.signed-in";

// A refresh that failed (session revoked or expired) leaves no token: the page is signed out.
onToken((value) => {
  if (!value && session.get().status === "user") {
    localStorage.removeItem(MARK);
    session.set({ status: "guest", user: null });
  }
});

export async function restore() {
  if (localStorage.getItem(MARK) && (await refreshToken())) {
    try {
      return await loadUser();
    } catch {
      setToken(null);
    }
  }
  localStorage.removeItem(MARK);
  session.set({ status: "guest", user: null });
  return null;
}

export async function signIn(email, password) {
  const pair = await api.post("/auth/login", { email, password }, { refresh_cookie: true });
  setToken(pair.access_token);
  localStorage.setItem(MARK, "1");
  return loadUser();
}

export async function signOut() {
  try {
    await api.post("/auth/logout");
  } finally {
    localStorage.removeItem(MARK);
    setToken(null);
    session.set({ status: "guest", user: null });
  }
}

export function isAdmin(user) {
  return user?.role === "admin";
}
