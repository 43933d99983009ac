"""The request's cache (`app.state.cache`) as a dependency, and the `X-Cache` header."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from quantdesk.infra.cache.cache import Cache, CacheStatus
from quantdesk.kit.app_state import app_state

CACHE_HEADER = "X-Cache"


async def get_cache(request: Request) -> Cache:
    return app_state(request.app).cache


CacheDep = Annotated[Cache, Depends(get_cache)]


def set_cache_header(response: Response, status: CacheStatus) -> None:
    """`X-Cache: hit|miss|stale` on a cached response (declare `response: Response`)."""
    response.headers[CACHE_HEADER] = status.value
