"""HTTP boundary hardening as pure ASGI middleware, plus free-text and URL types for schemas.

* `limits.RequestLimitsMiddleware`: body size (413), media type (415), JSON shape (422).
* `headers.SecurityHeadersMiddleware`: nosniff, frame and content policies, HSTS, no-store.
* `headers.TrustedHostMiddleware`: 400 problem+json for a Host this service does not answer to.
* `sanitize.SafeText` / `sanitize.WebUrl`: Pydantic types for text shown in a page and for links.

Nothing here imports FastAPI, and nothing is `BaseHTTPMiddleware` (it costs ~3.5x throughput).
"""
