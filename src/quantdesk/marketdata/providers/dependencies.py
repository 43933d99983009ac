"""The provider runtime the app built at startup (`app.state.providers`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from quantdesk.errors import ServiceUnavailable
from quantdesk.kit.app_state import app_state
from quantdesk.marketdata.providers.registry import ProviderRuntime


class ProvidersNotStarted(ServiceUnavailable):
    code = "providers-not-started"


async def get_provider_runtime(request: Request) -> ProviderRuntime:
    runtime = app_state(request.app).providers
    if not isinstance(runtime, ProviderRuntime):
        raise ProvidersNotStarted("market-data providers are not running in this process")
    return runtime


ProviderRuntimeDep = Annotated[ProviderRuntime, Depends(get_provider_runtime)]
