"""ASGI apps for benchmarks/bench_realtime.py, served by uvicorn subprocesses.

- `quantdesk_app`: quantdesk itself (settings from the environment) plus `POST /bench/publish`,
  which publishes `n` quote events on the app's own bus, in chunks of `chunk` with a yield
  between chunks (a publisher sharing the loop with the hub, like the desk or a job).
- `bare_app`: the reference, a bare Starlette WebSocket broadcast: `/ws` accepts, takes one
  subscribe message, and `POST /bench/publish` encodes each event once with orjson and sends it
  to every connection with `send_text`, one message per event per client (no hub, no queue,
  no batching, no auth, no limits).

Events are `MarketEvent` quotes of BENCH whose `ts` is the publish time in microseconds, so
clients measure publish-to-receive latency.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from quantdesk.infra.events import MarketEvent
from quantdesk.kit.app_state import app_state
from quantdesk.main import app as quantdesk_app

SYMBOL = "BENCH"


def bench_event(i: int) -> MarketEvent:
    price = 100.0 + (i % 100) / 100
    return MarketEvent(
        "quote", SYMBOL, None, time.time_ns() // 1000, price, price, price, price, 0.0
    )


def _params(request: Request) -> tuple[int, int, float]:
    query = request.query_params
    return (
        int(query.get("n", "1000")),
        int(query.get("chunk", "100")),
        float(query.get("pause", "0")),
    )


async def _publish(request: Request) -> JSONResponse:
    n, chunk, pause = _params(request)
    bus = app_state(quantdesk_app).events
    started = time.perf_counter()
    for i in range(n):
        event = bench_event(i)
        await bus.publish(event.topic, event)
        if (i + 1) % chunk == 0:
            await asyncio.sleep(pause)
    return JSONResponse({"published": n, "seconds": time.perf_counter() - started})


quantdesk_app.add_route("/bench/publish", _publish, methods=["POST"])


# ------------------------------------------------------------------------- the reference

_clients: set[WebSocket] = set()


async def _bare_ws(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        await websocket.receive_text()  # the subscribe command
        await websocket.send_text('{"type":"ack"}')
        _clients.add(websocket)
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        _clients.discard(websocket)


async def _bare_publish(request: Request) -> JSONResponse:
    n, chunk, pause = _params(request)
    started = time.perf_counter()
    for i in range(n):
        event = bench_event(i)
        frame: dict[str, Any] = {
            "type": "price_update",
            "channel": f"quotes:{SYMBOL}",
            "seq": i + 1,
            "data": event.to_dict(),
            "timestamp": "",
        }
        text = orjson.dumps(frame).decode()
        for websocket in list(_clients):
            try:
                await websocket.send_text(text)
            except Exception:
                _clients.discard(websocket)
        if (i + 1) % chunk == 0:
            await asyncio.sleep(pause)
    return JSONResponse({"published": n, "seconds": time.perf_counter() - started})


async def _ready(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


bare_app = Starlette(
    routes=[
        WebSocketRoute("/ws", _bare_ws),
        Route("/bench/publish", _bare_publish, methods=["POST"]),
        Route("/health/ready", _ready),
    ]
)
