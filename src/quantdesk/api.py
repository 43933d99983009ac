"""/api/v1: every domain router is included here.

Routes are public until the access-control issue adds authentication by default.
"""

from __future__ import annotations

from fastapi import APIRouter

from quantdesk.marketdata.endpoints import router as marketdata_router

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(marketdata_router)
