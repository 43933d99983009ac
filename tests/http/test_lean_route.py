"""LeanRoute answers exactly as FastAPI's own handler does, for the routes it takes over.

Two apps are built from the same endpoints, one with FastAPI's APIRoute and one with
LeanRoute; every request below must get the same status and body from both, and the lean
app must really have served its routes itself (its plan counts the requests).
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import orjson
import pytest
from fastapi import Body, Depends, FastAPI, Path, Query, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from quantdesk.app import create_app
from quantdesk.kit.lean_route import LeanPlan, LeanRoute, plan_for
from tests.support.settings import make_settings


class Denied(Exception):
    pass


async def denied(request: Request, exc: Exception) -> Response:
    return Response(orjson.dumps({"denied": str(exc)}), status_code=401)


class Side(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


calls: list[str] = []


async def who(request: Request) -> str:
    calls.append("who")
    if request.headers.get("x-deny"):
        raise Denied("no")
    return request.headers.get("x-user", "anonymous")


async def tick() -> None:
    calls.append("tick")


Who = Annotated[str, Depends(who)]


async def order(
    request: Request,
    user: Who,
    again: Who,  # the same dependency twice: solved once per request
    order_id: Annotated[int, Path(ge=1)],
    side: Side,
    limit: Annotated[int, Query(ge=1, le=10)] = 5,
    note: Annotated[str | None, Query(max_length=5)] = None,
    flag: bool = False,
) -> Response:
    document: dict[str, Any] = {
        "user": user,
        "again": again,
        "id": order_id,
        "side": side.value,
        "limit": limit,
        "note": note,
        "flag": flag,
        "method": request.method,
    }
    return Response(orjson.dumps(document), media_type="application/json")


async def symbol(code: Annotated[str, Path(pattern=r"^[A-Z]{1,5}$")]) -> Response:
    return Response(code.encode())


async def model_answer() -> dict[str, int]:
    return {"a": 1}


async def with_body(payload: Annotated[dict[str, int], Body()]) -> Response:
    return Response(orjson.dumps(payload))


async def yielding() -> AsyncIterator[int]:
    yield 1


async def uses_yield(value: Annotated[int, Depends(yielding)]) -> Response:
    return Response(str(value).encode())


def sync_endpoint() -> Response:
    return Response(b"sync")


def build(route_class: type[APIRoute]) -> FastAPI:
    # FastAPI's own 422 handler: it shows each error whole (type, loc, msg, input, ctx).
    app = FastAPI()
    app.add_exception_handler(Denied, denied)
    app.router.add_api_route(
        "/orders/{order_id}", order, dependencies=[Depends(tick)], route_class_override=route_class
    )
    app.router.add_api_route("/symbols/{code}", symbol, route_class_override=route_class)
    return app


REQUESTS: list[tuple[str, dict[str, str]]] = [
    ("/orders/7?side=buy", {}),
    ("/orders/7?side=sell&limit=10&note=hi&flag=true", {"x-user": "ann"}),
    ("/orders/7?side=sell&flag=yes", {}),
    ("/orders/0?side=buy", {}),  # ge=1
    ("/orders/x?side=buy", {}),  # not an int
    ("/orders/7", {}),  # side is required
    ("/orders/7?side=hold", {}),  # not an enum member
    ("/orders/7?side=buy&limit=11&note=toolong", {}),  # two errors at once
    ("/orders/7?side=buy&side=sell", {}),  # the first value, as FastAPI takes it
    ("/orders/7?side=buy", {"x-deny": "1"}),  # the dependency refuses first
    ("/symbols/GOOG", {}),
    ("/symbols/goog", {}),
]


@pytest.mark.parametrize(("url", "headers"), REQUESTS)
async def test_lean_route_answers_as_fastapi_does(url: str, headers: dict[str, str]) -> None:
    answers = []
    for route_class in (APIRoute, LeanRoute):
        app = build(route_class)
        calls.clear()
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            response = await client.get(url, headers=headers)
        answers.append((response.status_code, response.content, list(calls)))
    assert answers[0] == answers[1]
    # The router-level dependency first, then the endpoint's, `who` once (cached).
    if answers[0][0] != 404:
        assert answers[0][2][:2] == ["tick", "who"] or answers[0][2] == []
        assert answers[0][2].count("who") <= 1


async def test_lean_routes_really_serve_their_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    app = build(LeanRoute)
    for route in app.router.routes:
        if isinstance(route, APIRoute):  # not the docs pages
            assert isinstance(route, LeanRoute) and route.lean_plan is not None
    served: list[str] = []
    respond = LeanPlan.respond

    async def counted(plan: LeanPlan, request: Request) -> Response:
        served.append(request.url.path)
        return await respond(plan, request)

    monkeypatch.setattr(LeanPlan, "respond", counted)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        assert (await client.get("/orders/3?side=buy")).json()["id"] == 3
        assert (await client.get("/symbols/AB")).status_code == 200
    assert served == ["/orders/3", "/symbols/AB"]


async def test_dependency_overrides_go_through_fastapi() -> None:
    app = build(LeanRoute)

    async def override() -> str:
        return "overridden"

    app.dependency_overrides[who] = override
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        answer = (await client.get("/orders/3?side=buy", headers={"x-deny": "1"})).json()
    assert answer["user"] == answer["again"] == "overridden"


def test_openapi_is_unchanged() -> None:
    assert build(APIRoute).openapi() == build(LeanRoute).openapi()


@pytest.mark.parametrize(
    "endpoint",
    [model_answer, with_body, uses_yield, sync_endpoint],
    ids=["returns a model", "has a body", "yield dependency", "sync endpoint"],
)
def test_routes_needing_fastapi_keep_its_handler(endpoint: Any) -> None:
    route = LeanRoute("/x", endpoint, methods=["POST"])
    assert plan_for(route) is None and route.lean_plan is None


def test_the_quote_route_is_lean() -> None:
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:"))
    lean = {
        route.path
        for route in app.router.routes
        if isinstance(route, LeanRoute) and route.lean_plan is not None
    }
    assert "/api/v1/quotes/{symbol}" in lean
