"""HTTP boundary hardening as pure ASGI middleware, plus free-text and URL types for schemas.

* `edge.EdgeMiddleware`: the one outer layer: request id, trusted hosts, CORS, IP blocks,
  security and rate-limit headers, the 500 answer, access log and request metrics.
* `limits.RequestLimitsMiddleware`: body size (413), media type (415), JSON shape (422).
* `headers.SecurityHeaders` / `headers.TrustedHosts`: the header and Host policies the edge applies.
* `sanitize.SafeText` / `sanitize.WebUrl`: Pydantic types for text shown in a page and for links.

Nothing here imports FastAPI, and nothing is `BaseHTTPMiddleware` (it costs ~3.5x throughput).
"""
