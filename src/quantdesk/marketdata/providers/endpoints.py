"""GET /api/v1/providers: every provider, its breaker state and health; details for admins."""

from __future__ import annotations

from fastapi import APIRouter

from quantdesk.access.scopes import Scope
from quantdesk.auth.dependencies import ReadTickers
from quantdesk.dependencies import SessionDep
from quantdesk.kit.pagination import ListMeta, Page
from quantdesk.marketdata.providers.dependencies import ProviderRuntimeDep
from quantdesk.marketdata.providers.schemas import ProviderRead
from quantdesk.marketdata.providers.service import provider_status_service

router = APIRouter(tags=["providers"])


@router.get(
    "/providers",
    response_model=Page[ProviderRead],
    description=(
        "Market-data providers: the kinds each serves, its place in each chain (configured "
        "and health-ranked), circuit-breaker state and rolling health (calls and errors, "
        "success rate, p50/p95 latency) over the recorded fetches of every process. Callers "
        "with the system:admin scope also get `details`: last error, breaker thresholds and "
        "the request budget."
    ),
)
async def list_providers(
    principal: ReadTickers, runtime: ProviderRuntimeDep, session: SessionDep
) -> Page[ProviderRead]:
    data = await provider_status_service.list(
        runtime, session, details=principal.has(Scope.SYSTEM_ADMIN)
    )
    return Page[ProviderRead](data=data, meta=ListMeta(count=len(data), next_cursor=None))
