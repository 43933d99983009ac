"""Replay fixtures: an admin's headers and a stored daily series of TEST."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from quantdesk.access.scopes import Role
from quantdesk.marketdata.frames import BarFrame
from tests.support.accounts import bearer, create_user, login
from tests.support.factories import create_instrument, load_bars, synthetic_bars

BARS = 30


@pytest.fixture
async def admin(app: FastAPI, client: httpx.AsyncClient) -> dict[str, str]:
    return bearer(await login(client, await create_user(app.state.db, Role.ADMIN)))


@pytest.fixture
async def stored(app: FastAPI) -> BarFrame:
    frame = synthetic_bars(BARS)
    await create_instrument(app.state.db, "TEST")
    await load_bars(app.state.db, "TEST", frame)
    return frame
