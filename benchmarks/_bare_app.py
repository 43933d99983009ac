"""The reference server of bench_access: a bare FastAPI app with one quote route.

`uvicorn benchmarks._bare_app:app` serves `GET /api/v1/quotes/{symbol}` answering the JSON
document in the file named by QUANTDESK_BENCH_BODY (what quantdesk itself answered for that
symbol): no authentication, rate limiting, middleware, logging or database. How it answers
is QUANTDESK_BENCH_BARE_MODE:

* `dict` (default): the endpoint returns the parsed document as a dict and FastAPI encodes
  it (`jsonable_encoder` + `JSONResponse`), what a bare FastAPI endpoint usually does;
* `bytes`: the endpoint returns the stored bytes in a `Response` (no encoding at all).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response

BODY_ENV = "QUANTDESK_BENCH_BODY"
MODE_ENV = "QUANTDESK_BENCH_BARE_MODE"

_body = Path(os.environ[BODY_ENV]).read_bytes()
_document: dict[str, Any] = json.loads(_body)
_mode = os.environ.get(MODE_ENV, "dict")
if _mode not in ("dict", "bytes"):
    raise RuntimeError(f"{MODE_ENV} must be 'dict' or 'bytes', not {_mode!r}")

app = FastAPI()

if _mode == "dict":

    @app.get("/api/v1/quotes/{symbol}")
    async def quote_dict(symbol: str) -> dict[str, Any]:
        return _document

else:

    @app.get("/api/v1/quotes/{symbol}")
    async def quote_bytes(symbol: str) -> Response:
        return Response(_body, media_type="application/json")
