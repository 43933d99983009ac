"""Routes that build their JSON body by hand (orjson straight from numpy columns or cached
bytes, a fast path listed in ARCHITECTURE.md) must answer exactly what their declared
`response_model` documents: every field declared, of its declared type, nothing undeclared."""

from __future__ import annotations

import datetime as dt
import typing
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.responses import Response, StreamingResponse

from quantdesk.access.scopes import Role
from quantdesk.db import Database
from quantdesk.marketdata.providers.base import Fundamentals
from quantdesk.marketdata.reference.service import fundamentals_service
from tests.support.accounts import bearer, create_user, login
from tests.support.factories import create_instrument, load_bars, synthetic_bars
from tests.support.signals import create_signal

# One request per raw route, answered 200 on the data the fixture stores.
REQUESTS = {
    "/api/v1/quotes/{symbol}": ["/api/v1/quotes/TEST"],
    "/api/v1/bars/{symbol}": [
        "/api/v1/bars/TEST?limit=5",
        "/api/v1/bars/TEST?limit=5&format=columns",
        "/api/v1/bars/TEST?limit=5&format=columns&time_format=iso",
        "/api/v1/bars/TEST?timeframe=1w&limit=3",
    ],
    "/api/v1/fundamentals/{symbol}": ["/api/v1/fundamentals/TEST"],
    "/api/v1/indicators/{symbol}": ["/api/v1/indicators/TEST?set=rsi:14,macd:12:26:9&limit=30"],
    "/api/v1/signals/latest": ["/api/v1/signals/latest"],
}


def raw_api_routes(app: FastAPI) -> dict[str, APIRoute]:
    """/api/v1 routes whose endpoint returns a bare `Response` (it serializes by hand)."""
    found = {}
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path.startswith("/api/v1"):
            returned = typing.get_type_hints(route.endpoint).get("return")
            # A route documenting only non-JSON bodies (a report as markdown, HTML or PDF) or
            # streaming a file (an export's download) has no JSON body to check.
            content = route.responses.get(200, {}).get("content", {})
            if content and set(content) <= {"text/markdown", "text/html", "application/pdf"}:
                continue
            streamed = route.response_class
            if isinstance(streamed, type) and issubclass(streamed, StreamingResponse):
                continue
            if isinstance(returned, type) and issubclass(returned, Response):
                found[route.path] = route
    return found


def test_every_raw_route_is_checked_and_documents_its_body(app: FastAPI) -> None:
    routes = raw_api_routes(app)
    assert set(routes) == set(REQUESTS), "a new raw route needs its requests in REQUESTS"
    undocumented = [path for path, route in routes.items() if route.response_model is None]
    assert not undocumented


def _same_as_documented(model: type[BaseModel], body: Any) -> None:
    parsed = model.model_validate(body)
    # Serializing what was parsed gives the body back only when every field is declared.
    assert parsed.model_dump(mode="json", exclude_unset=True, by_alias=True) == body


@pytest.fixture
async def stored(db: Database, client: httpx.AsyncClient) -> dict[str, str]:
    await create_instrument(db, "TEST")
    await load_bars(db, "TEST", synthetic_bars(120))
    await create_signal(db, "TEST")
    async with db.session() as session:
        await fundamentals_service.store(
            session,
            fundamentals=Fundamentals("TEST", 1_704_067_200, {"revenues": 1.5e9}),
            provider="polygon",
            fetched_at=dt.datetime(2024, 1, 5, tzinfo=dt.UTC),
            cache=None,
        )
    return bearer(await login(client, await create_user(db, Role.USER)))


async def test_raw_bodies_match_their_response_models(
    app: FastAPI, client: httpx.AsyncClient, stored: dict[str, str]
) -> None:
    routes = raw_api_routes(app)
    for path, urls in REQUESTS.items():
        model = routes[path].response_model
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for url in urls:
            for attempt in ("miss", "hit"):  # the cached answer is the same document
                response = await client.get(url, headers=stored)
                assert response.status_code == 200, (url, attempt, response.text)
                _same_as_documented(model, response.json())
