"""An ASGI app served by uvicorn in a thread on a free 127.0.0.1 port, without its lifespan:
for browser tests of what needs no database (the dashboard's static files and headers)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

from tests.support.common import HOST, ServerUnavailable, _free_port

START_TIMEOUT = 30.0


@contextmanager
def serving_in_thread(app: ASGIApp) -> Iterator[str]:
    """Yield the base URL (`http://127.0.0.1:<port>`) while `app` is served."""
    port = _free_port()
    config = uvicorn.Config(app, host=HOST, port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise ServerUnavailable(f"uvicorn did not start on {HOST}:{port}")
            time.sleep(0.05)
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
