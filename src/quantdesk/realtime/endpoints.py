"""WebSocket routes: `/api/v1/ws` and the seed aliases `/ws/market/{symbol}`, `/ws/trading`,
`/ws/news` (pre-subscribed streams). docs/realtime.md describes the protocol.

They authenticate inside the connection (headers on the upgrade, or a first `auth` message),
so they carry no HTTP policy dependency; `__quantdesk_scope__` says so to the route-policy
test.
"""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from quantdesk.realtime.connection import serve
from quantdesk.realtime.protocol import ALL, Command

router = APIRouter(tags=["realtime"])
alias_router = APIRouter(prefix="/ws", tags=["realtime"])

IN_CONNECTION = "authenticated in the connection"


@router.websocket("/ws")
async def stream(websocket: WebSocket) -> None:
    await serve(websocket, [])


@alias_router.websocket("/market/{symbol}")
async def market_stream(websocket: WebSocket, symbol: str) -> None:
    """Quotes, bars and signals of one symbol."""
    symbols = (symbol.strip().upper(),)
    await serve(
        websocket,
        [
            Command("subscribe", None, ("quotes",), symbols),
            Command("subscribe", None, ("bars",), symbols),
            Command("subscribe", None, ("signals",), symbols),
        ],
    )


@alias_router.websocket("/trading")
async def trading_stream(websocket: WebSocket) -> None:
    """The caller's order updates and price alerts (needs a signed-in caller)."""
    await serve(
        websocket,
        [
            Command("subscribe", None, ("orders",), (ALL,)),
            Command("subscribe", None, ("alerts",), (ALL,)),
        ],
        needs_user=True,
    )


@alias_router.websocket("/news")
async def news_stream(websocket: WebSocket) -> None:
    """Every news item."""
    await serve(websocket, [Command("subscribe", None, ("news",), (ALL,))])


for _endpoint in (stream, market_stream, trading_stream, news_stream):
    setattr(_endpoint, "__quantdesk_scope__", IN_CONNECTION)  # noqa: B010
