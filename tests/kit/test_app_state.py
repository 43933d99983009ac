"""The app's state is one typed AppState: built by create_app, filled by the lifespan."""

from __future__ import annotations

from asgi_lifespan import LifespanManager

from quantdesk.app import create_app
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.infra.cache import Cache
from quantdesk.kit.app_state import AppState, app_state
from quantdesk.ratelimit import RateLimiter


async def test_the_lifespan_fills_the_typed_state(settings: Settings) -> None:
    app = create_app(settings)
    state = app_state(app)
    assert isinstance(app.state, AppState)
    assert state.settings is settings
    assert state.jobs is None and state.providers is None  # nothing runs before the lifespan
    async with LifespanManager(app):
        assert isinstance(state.db, Database)
        assert isinstance(state.cache, Cache)
        assert isinstance(state.rate_limiter, RateLimiter)
        assert state.jobs is not None and state.providers is not None
        assert state.monitor is not None
