"""Cost policies are charged only for requests the route accepts: a 422 (or a caller the
route refuses) spends no slot of a scarce policy such as backtests-create (3 per hour)."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import Depends, Query, Request

from quantdesk.access.scopes import Role, Scope
from quantdesk.db import Database
from quantdesk.errors import Forbidden
from tests.support.accounts import bearer, create_user, login
from tests.support.factories import create_instrument, load_bars, synthetic_bars
from tests.support.ratelimit import (
    client_for,
    header_principal,
    limited,
    make_app,
    small_config,
    user,
)

VALID: dict[str, Any] = {"symbol": "TEST", "timeframe": "1d", "strategy": "sma_cross"}
INVALID: list[tuple[dict[str, Any], dict[str, str]]] = [
    ({**VALID, "cash": -5}, {}),  # the body's schema
    ({**VALID, "params": {"fast": 50, "slow": 10}}, {}),  # a validator's own 422
    ({**VALID, "strategy": "nope"}, {}),
    (VALID, {"Idempotency-Key": ""}),  # a header parameter
]


async def test_invalid_backtests_spend_no_slot_of_the_policy(
    client: httpx.AsyncClient, db: Database
) -> None:
    await create_instrument(db, "TEST")
    await load_bars(db, "TEST", synthetic_bars(300))
    headers = bearer(await login(client, await create_user(db, Role.USER)))
    for body, extra in INVALID:
        response = await client.post("/api/v1/backtests", json=body, headers=headers | extra)
        assert response.status_code == 422, response.text
    for n in range(3):
        accepted = await client.post("/api/v1/backtests", json=VALID, headers=headers)
        assert accepted.status_code == 202, accepted.text
        assert accepted.headers["RateLimit-Remaining"] == str(2 - n)
    refused = await client.post("/api/v1/backtests", json=VALID, headers=headers)
    assert refused.status_code == 429
    assert "backtests-create" in refused.json()["detail"]


async def test_query_errors_and_missing_scopes_spend_no_slot() -> None:
    app = make_app(small_config())  # signals-historic: 3/minute per IP

    async def needs_backtests(request: Request) -> None:
        if not (await header_principal(request)).has(Scope.RUN_BACKTEST):
            raise Forbidden("this needs the run:backtest scope")

    needs_backtests.__quantdesk_scope__ = Scope.RUN_BACKTEST  # type: ignore[attr-defined]

    @app.get(
        "/api/checked",
        dependencies=[limited("signals-historic"), Depends(needs_backtests)],
    )
    async def checked(days: Annotated[int, Query(ge=1, le=30)]) -> dict[str, int]:
        return {"days": days}

    async with LifespanManager(app), client_for(app) as http:
        for n in range(5):
            invalid = await http.get("/api/checked", params={"days": 99}, headers=user(n + 1))
            assert invalid.status_code == 422
        for _ in range(3):  # anonymous guests lack the scope the route declares
            assert (await http.get("/api/checked", params={"days": 2})).status_code == 403
        for n in range(3):
            ok = await http.get("/api/checked", params={"days": 2}, headers=user(n + 1))
            assert ok.status_code == 200
        refused = await http.get("/api/checked", params={"days": 2}, headers=user(9))
        assert refused.status_code == 429  # per IP: the three accepted requests spent it
