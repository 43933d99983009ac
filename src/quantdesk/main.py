"""ASGI entry point for servers: `uvicorn quantdesk.main:app` (what `quantdesk serve` runs)."""

from quantdesk.app import create_app

app = create_app()
