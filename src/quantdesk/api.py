"""/api/v1: every domain router is included here.

Each route declares the scope it needs or that it is public (quantdesk.auth.dependencies);
a test walks the app and fails on a route that does neither.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from quantdesk.auth.admin_endpoints import router as admin_router
from quantdesk.auth.api_key_endpoints import router as api_keys_router
from quantdesk.auth.endpoints import router as auth_router
from quantdesk.backtest.endpoints import router as backtest_router
from quantdesk.indicators.endpoints import router as indicators_router
from quantdesk.infra.cache.endpoints import router as cache_admin_router
from quantdesk.marketdata.endpoints import router as marketdata_router
from quantdesk.ratelimit import rate_limit
from quantdesk.signals.endpoints import router as signals_router

# Every /api/v1 route counts against the caller's role tier; routes add named policies.
api_router = APIRouter(prefix="/api/v1", dependencies=[Depends(rate_limit())])
# Routing tries routes in order (every regex before the match, at each router level), so the
# market-data reads that take most traffic come first; no two routers share a path.
api_router.include_router(marketdata_router)
api_router.include_router(auth_router)
api_router.include_router(api_keys_router)
api_router.include_router(admin_router)
api_router.include_router(cache_admin_router)
api_router.include_router(indicators_router)
api_router.include_router(signals_router)
api_router.include_router(backtest_router)
