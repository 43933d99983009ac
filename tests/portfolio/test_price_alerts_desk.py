"""End to end: a market event published on the bus is processed by the app's own desk, which
records the price alert's firing and publishes `alert_triggered` on `alerts.<user_id>`."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from quantdesk.db import Database
from quantdesk.infra.events import MarketEvent
from quantdesk.kit.app_state import app_state
from quantdesk.portfolio.events import AlertTriggered
from tests.support.accounts import bearer, create_user, login
from tests.support.events import next_event
from tests.support.paper_alerts import ALERTS, stock

T0 = 1_704_153_600  # 2024-01-02T00:00:00Z


def daily_bar(ts: int, close: float) -> MarketEvent:
    return MarketEvent("bar", "GOOG", "1d", ts, close, close + 1, close - 1, close, 1_000.0)


async def test_the_desk_fires_an_alert_on_a_market_event_and_publishes_it(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    await stock(db, "GOOG")
    user = await create_user(db)
    headers = bearer(await login(client, user))
    body = {"symbol": "GOOG", "condition": "crossing_up", "level": "100"}
    alert_id = (await client.post(ALERTS, json=body, headers=headers)).json()["id"]

    events = app_state(app).events
    subscription = await events.subscribe(f"alerts.{user.id}")
    try:
        below, above = daily_bar(T0, 99.5), daily_bar(T0 + 86_400, 100.25)
        await events.publish(below.topic, below)
        await events.publish(above.topic, above)
        envelope = await next_event(subscription)
    finally:
        await subscription.aclose()

    assert envelope.payload == AlertTriggered(
        user_id=user.id,
        alert_id=alert_id,
        symbol="GOOG",
        condition="crossing_up",
        level="100.00",
        price="100.25",
        bar_ts=T0 + 86_400,
    )
    triggers = (await client.get(f"{ALERTS}/{alert_id}/triggers", headers=headers)).json()
    assert [(t["bar_ts"], t["price"]) for t in triggers["data"]] == [(T0 + 86_400, "100.25")]
    alert = (await client.get(f"{ALERTS}/{alert_id}", headers=headers)).json()
    assert alert["status"] == "triggered" and alert["trigger_count"] == 1
