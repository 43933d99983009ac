"""Realtime tests run the app with short time limits (auth, heartbeat) so limits are quick to
observe; the other limits keep their defaults."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from quantdesk.config import Settings
from tests.support.realtime import serving
from tests.support.settings import make_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(
        database_url,
        realtime_auth_timeout_seconds=1.0,
        realtime_heartbeat_seconds=30.0,
        realtime_max_connections_per_user=3,
        realtime_outbound_queue=50,
        realtime_replay_buffer=5,
    )


@pytest.fixture
async def ws_url(app: FastAPI) -> AsyncIterator[str]:
    async with serving(app) as url:
        yield url
