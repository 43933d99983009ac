"""A market replay drives a visible stream: replayed bars, the signals stored for those bars
(opened and settled on them) and the desk's order updates reach a WebSocket subscriber."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from quantdesk.access.scopes import Role
from quantdesk.db import Database
from quantdesk.kit.timeutil import from_epoch
from quantdesk.models import SignalStatus
from tests.support.accounts import bearer, create_user, login
from tests.support.factories import load_bars
from tests.support.paper import create_account, trader
from tests.support.realtime import WS, Reader, stream_client
from tests.support.signals import create_signal, goog_window

DAY = 86_400
REPLAY = "/api/v1/admin/replay"


async def test_a_replay_streams_bars_signals_and_orders(
    app: FastAPI, client: httpx.AsyncClient, db: Database, ws_url: str
) -> None:
    window = goog_window()
    ts = [int(t) for t in window.ts[:4]]
    opened = await create_signal(db, "GOOG", source_ts=ts[1])
    await create_signal(
        db,
        "GOOG",
        source_ts=ts[0] - DAY,
        status=SignalStatus.TARGET_HIT,
        closed_at=from_epoch(ts[2] + DAY),  # settled at the close of the third bar
        close_price=106.5,
    )
    await load_bars(db, "GOOG", window)
    admin = bearer(await login(client, await create_user(db, Role.ADMIN)))
    headers = await trader(client, db)
    account = await create_account(client, headers)
    order = {"symbol": "GOOG", "side": "buy", "type": "market", "qty": "1"}
    response = await client.post(
        f"/api/v1/accounts/{account['id']}/orders", json=order, headers=headers
    )
    assert response.status_code == 201, response.text
    async with stream_client(ws_url + WS, headers) as ws:
        reader = Reader(ws)
        for channel in ("bars", "signals"):
            await reader.send({"action": "subscribe", "channel": channel, "symbols": ["GOOG"]})
            await reader.next_of("ack")
        await reader.send({"action": "subscribe", "channel": "orders"})
        await reader.next_of("ack")
        start = from_epoch(ts[0]).isoformat()
        body = {"symbol": "GOOG", "timeframe": "1d", "start": start, "paused": True}
        assert (await client.post(REPLAY, json=body, headers=admin)).status_code == 201
        stepped = await client.post(f"{REPLAY}/step", json={"bars": 3}, headers=admin)
        assert stepped.status_code == 200, stepped.text
        seen: list[tuple[str, object]] = []
        wanted = {"bar", "new_signal", "signal_closed", "order_update"}
        while not wanted <= {kind for kind, _ in seen} or len(seen) < 6:
            frame = await reader.next()  # fails after 5 s without a frame
            if frame["type"] in wanted:
                data = frame["data"]
                seen.append((frame["type"], data.get("ts") or data.get("signal_id")))
        await client.delete(REPLAY, headers=admin)
    kinds = [kind for kind, _ in seen]
    assert kinds.count("bar") == 3
    assert ("new_signal", opened.id) in seen
    assert "signal_closed" in kinds
    assert "order_update" in kinds  # the market order filled on a replayed bar
