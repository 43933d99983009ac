"""/api/v1: every domain router is included here.

Each route declares the scope it needs or that it is public (quantdesk.auth.dependencies);
a test walks the app and fails on a route that does neither. That one policy dependency also
authenticates the caller and counts the request against their role's rate-limit tier, so no
router-wide dependency is needed (each dependency node costs every request).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from quantdesk.analytics.market.endpoints import router as market_router
from quantdesk.analytics.sentiment.endpoints import router as sentiment_router
from quantdesk.auth.admin_endpoints import router as admin_router
from quantdesk.auth.api_key_endpoints import router as api_keys_router
from quantdesk.auth.endpoints import router as auth_router
from quantdesk.backtest.endpoints import router as backtest_router
from quantdesk.exports.endpoints import router as exports_router
from quantdesk.indicators.endpoints import router as indicators_router
from quantdesk.jobs.endpoints import router as jobs_router
from quantdesk.kit.routing import include_flat
from quantdesk.marketdata.endpoints import router as marketdata_router
from quantdesk.marketdata.fx.endpoints import router as fx_router
from quantdesk.marketdata.news.endpoints import router as news_router
from quantdesk.marketdata.providers.endpoints import router as providers_router
from quantdesk.marketdata.reference.endpoints import router as reference_router
from quantdesk.marketdata.replay.endpoints import router as replay_router
from quantdesk.ops.block_endpoints import router as blocks_router
from quantdesk.ops.cache_endpoints import router as cache_admin_router
from quantdesk.ops.monitor_endpoints import router as monitor_router
from quantdesk.portfolio.account_endpoints import router as accounts_router
from quantdesk.portfolio.alert_endpoints import router as price_alerts_router
from quantdesk.portfolio.fills import router as fills_router
from quantdesk.portfolio.order_endpoints import router as orders_router
from quantdesk.portfolio.position_endpoints import router as positions_router
from quantdesk.portfolio.watchlist_endpoints import router as watchlists_router
from quantdesk.realtime.endpoints import router as realtime_router
from quantdesk.research.endpoints import router as research_router
from quantdesk.signals.endpoints import router as signals_router
from quantdesk.webhooks.endpoints import router as webhooks_router

API_PREFIX = "/api/v1"
# Routing tries routes in order, so the market-data reads that take most traffic come first;
# no two routers share a path.
API_ROUTERS: list[APIRouter] = [
    marketdata_router,
    auth_router,
    api_keys_router,
    admin_router,
    blocks_router,
    cache_admin_router,
    providers_router,
    reference_router,
    fx_router,
    news_router,
    sentiment_router,
    market_router,
    replay_router,
    indicators_router,
    signals_router,
    backtest_router,
    exports_router,
    accounts_router,
    orders_router,
    fills_router,
    positions_router,
    watchlists_router,
    price_alerts_router,
    webhooks_router,
    research_router,
    jobs_router,
    monitor_router,
]


def include_api(app: FastAPI) -> None:
    """Every domain router under /api/v1, flattened into the app (quantdesk.kit.routing)."""
    for router in API_ROUTERS:
        include_flat(app.router, router, prefix=API_PREFIX)
    # WebSocket routes (include_flat copies HTTP routes only); they authenticate in the
    # connection (quantdesk.realtime).
    app.include_router(realtime_router, prefix=API_PREFIX)
