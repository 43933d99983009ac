"""Response security headers and Host checking, applied by quantdesk.http.edge.

Header choices:

* `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'` on API responses: JSON
  needs no scripts, styles or frames, so a response rendered by a browser by mistake can do
  nothing. The interactive docs (`/docs`, `/redoc`) load scripts and styles, all from this
  origin (`DOCS_CSP`: no inline script, no CDN), and framing is forbidden there too. The
  dashboard (`/app`, quantdesk.web) gets the strictest policy a page can have (`APP_CSP`).
* `Referrer-Policy: no-referrer`: nothing here needs to know where a request came from, and the
  browser default (`strict-origin-when-cross-origin`) would still send our origin to any site
  the docs link to; an API gains nothing from leaking even that.
* `Permissions-Policy` on the docs and dashboard pages: the powerful features a page could
  ask for, all denied. A JSON answer is not a document that could ask for any, so API
  responses go without (every header costs each response its share of the server's header
  writing).
* `Strict-Transport-Security` only when enabled (production behind TLS): sent over plain HTTP on
  a laptop it would pin `localhost` to HTTPS in the browser for two years.
* `Cache-Control: no-store` on answers to requests carrying credentials, so no shared or browser
  cache keeps a user's data; the app's own `Cache-Control` wins when it set one.

A header the app already set is never replaced or duplicated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

HSTS_MAX_AGE = 63_072_000  # two years, the preload list's minimum is one
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# The docs pages: scripts, styles, images and fetches from this origin only (their assets are
# served locally, quantdesk.http.docs); inline styles for ReDoc's generated CSS, data: images
# for Swagger UI's icons, blob: workers for ReDoc's search. No inline script, no CDN.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
# The dashboard (quantdesk.web): its own scripts, styles, images and API calls, all from this
# origin; no inline script, no eval, no CDN, no <base>, never framed. Checked in real chromium
# (tests/e2e/test_csp_libraries.py): uPlot and preact style elements through the CSSOM
# (element.style.x = ..., style.cssText), which CSP allows, so style-src has no
# 'unsafe-inline'. The one inline style is the <style> element lightweight-charts 5.2.1 adds
# for its TradingView attribution logo (shown by default, as its licence's NOTICE asks): it is
# allowed by its hash only (APP_STYLE_HASHES; a test recomputes it from the vendored file, so a
# new version with other CSS fails until the hash is updated). Inline style attributes stay
# blocked.
APP_STYLE_HASHES = ("'sha256-3pRED1tOXas1FXFoPb9TGCjmYe9XQsmO9OV23khV2nY='",)
APP_CSP = (
    f"default-src 'none'; script-src 'self'; style-src 'self' {' '.join(APP_STYLE_HASHES)}; "
    "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; manifest-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
APP_PATHS = ("/app",)
PERMISSIONS_POLICY = "camera=(), geolocation=(), microphone=(), payment=(), usb=()"
CREDENTIAL_HEADERS = frozenset({b"authorization", b"x-api-key"})

Headers = list[tuple[bytes, bytes]]
_NO_STORE = (b"cache-control", b"no-store")


def encode_headers(headers: Iterable[tuple[str, str]]) -> Headers:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]


class SecurityHeaders:
    """The security headers for one response, precomputed and encoded once per app."""

    def __init__(
        self,
        *,
        hsts: bool = False,
        hsts_max_age: int = HSTS_MAX_AGE,
        docs_paths: Sequence[str] = DOCS_PATHS,
        app_paths: Sequence[str] = APP_PATHS,
    ) -> None:
        self.docs_paths = tuple(path.rstrip("/") for path in docs_paths)
        self.app_paths = tuple(path.rstrip("/") for path in app_paths)
        self._page_prefixes = self.docs_paths + self.app_paths
        common = [
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
        ]
        if hsts:
            common.append(
                ("Strict-Transport-Security", f"max-age={hsts_max_age}; includeSubDomains")
            )
        api = encode_headers([*common, ("Content-Security-Policy", API_CSP)])
        pages = {
            kind: encode_headers(
                [
                    *common,
                    ("Content-Security-Policy", csp),
                    ("Permissions-Policy", PERMISSIONS_POLICY),
                ]
            )
            for kind, csp in (("docs", DOCS_CSP), ("app", APP_CSP))
        }
        # (api, docs or app page, credentials sent?) -> the headers to add when the app has
        # not set them.
        self._variants = {
            ("api", False): api,
            ("api", True): [*api, _NO_STORE],
            **{(kind, False): headers for kind, headers in pages.items()},
            **{(kind, True): [*headers, _NO_STORE] for kind, headers in pages.items()},
        }

    @staticmethod
    def _under(path: str, roots: tuple[str, ...]) -> bool:
        return any(path == root or path.startswith(root + "/") for root in roots)

    def is_docs_path(self, path: str) -> bool:
        return path.startswith(self.docs_paths) and self._under(path, self.docs_paths)

    def is_app_path(self, path: str) -> bool:
        return path.startswith(self.app_paths) and self._under(path, self.app_paths)

    def page_kind(self, path: str) -> str:
        """`api`, `docs` or `app`: which policy a response to `path` gets."""
        if not self._page_prefixes or not path.startswith(self._page_prefixes):
            return "api"  # one C call settles nearly every request
        if self.is_docs_path(path):
            return "docs"
        return "app" if self.is_app_path(path) else "api"

    def for_request(self, path: str, *, credentials: bool) -> Headers:
        return self._variants[(self.page_kind(path), credentials)]


def host_name(host_header: str) -> str:
    """`Example.COM:8443` -> `example.com`; `[::1]:8000` -> `[::1]`."""
    host = host_header.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end != -1 else host
    return host.split(":", 1)[0]


class TrustedHosts:
    """Which `Host` headers this service answers (production; the edge refuses the others
    with a 400 problem+json, or closes a WebSocket with 1008).

    Patterns: an exact name, `*.example.com` (subdomains only, not the apex), or `*` (any).
    """

    def __init__(self, allowed_hosts: Iterable[str]) -> None:
        patterns = [pattern.strip().lower() for pattern in allowed_hosts if pattern.strip()]
        if not patterns:
            raise ValueError("allowed_hosts is empty: no request could ever be answered")
        for pattern in patterns:
            if "*" in pattern and pattern != "*" and not pattern.startswith("*."):
                raise ValueError(f"host pattern {pattern!r}: '*' may only lead, as '*.domain'")
        self.allow_any = "*" in patterns
        self.exact = frozenset(p for p in patterns if not p.startswith("*"))
        self.suffixes = tuple(p[1:] for p in patterns if p.startswith("*."))

    def is_allowed(self, host: str) -> bool:
        if self.allow_any:
            return True
        return host in self.exact or (bool(host) and host.endswith(self.suffixes))

    def allows_header(self, raw_host: bytes) -> bool:
        return self.allow_any or self.is_allowed(host_name(raw_host.decode("latin-1")))
