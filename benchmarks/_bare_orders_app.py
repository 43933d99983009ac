"""The reference server of the desk's order-placement benchmark: a bare FastAPI app.

`uvicorn benchmarks._bare_orders_app:app` serves `POST /api/v1/accounts/{account_id}/orders`
on the SQLite database named by QUANTDESK_BENCH_ORDERS_DB (a copy of the one quantdesk
serves, so the account row exists): it parses the same JSON body with a plain Pydantic
model, takes the `Idempotency-Key` header, inserts the same `paper_orders` row (same
columns; the hold is qty x QUANTDESK_BENCH_ORDERS_PRICE) with the SQLAlchemy ORM in one
transaction, and answers 201 with the order as JSON (FastAPI's own encoding). The engine is
quantdesk's `create_engine` (aiosqlite, WAL and the same pragmas). No authentication, rate
limiting, middleware, checks, ledger entry, audit record or event. `GET /ready` answers 200.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Header, status
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import async_sessionmaker

from quantdesk.db import create_engine
from quantdesk.models.portfolio import (
    OrderSide,
    OrderStatus,
    OrderType,
    PaperOrder,
    TimeInForce,
)

DB_ENV = "QUANTDESK_BENCH_ORDERS_DB"
PRICE_ENV = "QUANTDESK_BENCH_ORDERS_PRICE"

_engine = create_engine(f"sqlite+aiosqlite:///{os.environ[DB_ENV]}")
_sessions = async_sessionmaker(_engine, expire_on_commit=False)
_price = Decimal(os.environ.get(PRICE_ENV, "100"))

app = FastAPI()


class OrderBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str
    side: Literal["buy", "sell"]
    type: Literal["market", "limit", "stop", "stop_limit"]
    qty: Decimal
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: Literal["day", "gtc", "ioc", "fok"] = "gtc"
    client_order_id: str | None = None


@app.get("/ready")
async def ready() -> dict[str, bool]:
    return {"ok": True}


@app.post("/api/v1/accounts/{account_id}/orders", status_code=status.HTTP_201_CREATED)
async def place(
    account_id: str,
    body: OrderBody,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    order = PaperOrder(
        id=secrets.token_hex(16),
        account_id=account_id,
        client_order_id=body.client_order_id,
        idempotency_key=idempotency_key,
        request_hash=hashlib.sha256(body.model_dump_json().encode()).hexdigest(),
        symbol=body.symbol.upper(),
        side=OrderSide(body.side),
        type=OrderType(body.type),
        time_in_force=TimeInForce(body.time_in_force),
        qty=body.qty,
        limit_price=body.limit_price,
        stop_price=body.stop_price,
        status=OrderStatus.NEW,
        filled_qty=Decimal(0),
        filled_notional=Decimal(0),
        fees=Decimal(0),
        hold=body.qty * _price if body.side == "buy" else Decimal(0),
        triggered=False,
        accepted_seq=1,
        created_at=now,
        updated_at=now,
    )
    async with _sessions() as session, session.begin():
        session.add(order)
    return {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "account_id": order.account_id,
        "symbol": order.symbol,
        "side": order.side,
        "type": order.type,
        "time_in_force": order.time_in_force,
        "qty": str(order.qty),
        "limit_price": None if order.limit_price is None else str(order.limit_price),
        "stop_price": None if order.stop_price is None else str(order.stop_price),
        "status": order.status,
        "filled_qty": "0",
        "hold": str(order.hold),
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }
