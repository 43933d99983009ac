"""include_flat rebuilds each route with add_api_route: it must carry every parameter the
installed FastAPI has, or a new FastAPI release would silently drop one from every route."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from quantdesk.kit import routing
from quantdesk.kit.lean_route import LeanRoute
from quantdesk.kit.routing import include_flat

# Parameters include_flat sets itself rather than copying them from the route.
SET_BY_INCLUDE_FLAT = {"self", "path", "endpoint", "dependencies", "route_class_override"}


def test_every_add_api_route_parameter_is_carried() -> None:
    parameters = set(inspect.signature(APIRouter.add_api_route).parameters)
    missing = parameters - SET_BY_INCLUDE_FLAT - set(routing._ROUTE_ATTRIBUTES)
    assert not missing, f"include_flat does not copy {sorted(missing)}"


def test_every_carried_attribute_exists_on_api_route() -> None:
    route_parameters = set(inspect.signature(APIRoute.__init__).parameters)
    assert set(routing._ROUTE_ATTRIBUTES) <= route_parameters


class Answer(BaseModel):
    value: int


async def dependency() -> None:
    return None


async def endpoint() -> Answer:
    return Answer(value=1)


def test_a_copied_route_equals_the_original_in_every_carried_attribute() -> None:
    source = APIRouter()
    source.add_api_route(
        "/thing/{thing_id}",
        endpoint,
        response_model=Answer,
        status_code=201,
        tags=["things"],
        summary="A thing",
        description="Described",
        response_description="The thing",
        responses={404: {"description": "No thing"}},
        deprecated=True,
        methods=["PUT"],
        operation_id="put_thing",
        response_model_exclude_none=True,
        include_in_schema=False,
        response_class=PlainTextResponse,
        name="thing",
        openapi_extra={"x-thing": True},
        dependencies=[Depends(dependency)],
    )
    target = APIRouter()
    router_dependency = Depends(dependency)
    include_flat(target, source, prefix="/v1", dependencies=[router_dependency])

    (original,) = source.routes
    (copied,) = target.routes
    assert isinstance(original, APIRoute) and isinstance(copied, APIRoute)
    assert type(copied) is LeanRoute
    assert copied.path == "/v1/thing/{thing_id}"
    assert copied.dependencies[0] is router_dependency
    assert copied.dependencies[1:] == original.dependencies
    for name in routing._ROUTE_ATTRIBUTES:
        if name == "response_model":  # FastAPI wraps it once per route
            continue
        mine: Any = getattr(copied, name)
        theirs: Any = getattr(original, name)
        assert mine == theirs, name
