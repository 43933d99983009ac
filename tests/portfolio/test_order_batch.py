"""Group commit of placements (portfolio/order_batch.py): a batch answers each placement as
if it had been placed alone, in arrival order, and a failed batch falls back to one by one."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from quantdesk.audit.service import audit_service
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.kit.app_state import app_state
from quantdesk.models.portfolio import EntryKind, OrderStatus, PaperAccount, PaperOrder
from quantdesk.portfolio import order_batch
from quantdesk.portfolio.accounts import AccountNotFound
from quantdesk.portfolio.order_batch import Placement, place_batch
from quantdesk.portfolio.order_errors import IdempotencyKeyReused
from quantdesk.portfolio.order_schemas import OrderCreate
from quantdesk.portfolio.placement import PlaceResult
from tests.support.paper import account_url, assert_ledger_clean, trader
from tests.support.paper_orders import balances, entries, listed, order, place

PARALLEL = 30


def limit_buy(qty: str) -> OrderCreate:
    # A limit buy holds exactly qty x limit (no slippage, equity fee 0).
    return OrderCreate.model_validate(order(type="limit", limit_price="100", qty=qty))


async def owner_of(db: Database, account_id: str) -> int:
    async with db.session() as session:
        account = await session.get(PaperAccount, account_id)
        assert account is not None
        return account.user_id


async def stored_orders(db: Database, account_id: str) -> int:
    async with db.session() as session:
        count = await session.scalar(
            select(func.count()).select_from(PaperOrder).where(PaperOrder.account_id == account_id)
        )
    return int(count or 0)


async def assert_audit_chain_intact(db: Database) -> None:
    async with db.session() as session:
        report = await audit_service.verify(session)
    assert report.ok, report


async def test_a_batch_answers_each_placement_as_if_placed_alone_in_arrival_order(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    _, mine = await account_url(client, await trader(client, db), starting_cash="1000.00")
    _, theirs = await account_url(client, await trader(client, db), starting_cash="1000.00")
    await listed(db)
    me = await owner_of(db, mine["id"])

    def placing(body: OrderCreate, key: str, account: dict[str, Any] = mine) -> Placement:
        return Placement(me, account["id"], body, key)

    placements = [
        placing(limit_buy("3"), "k1"),  # holds 300: 700 free
        placing(limit_buy("3"), "k1"),  # the same request again: the order just placed
        placing(limit_buy("4"), "k1"),  # the key with another body: refused
        placing(limit_buy("1"), "k9", theirs),  # someone else's account: not found
        placing(limit_buy("3"), "k2"),  # holds 300: 400 free
        placing(limit_buy("5"), "k3"),  # 500 > 400: rejected, recorded
        placing(limit_buy("4"), "k4"),  # holds the last 400
    ]
    async with db.session() as session:
        outcomes = await place_batch(session, settings, placements)

    first, twin, reused, foreign, second, refused, last = outcomes
    assert isinstance(first, PlaceResult) and first.created
    assert isinstance(twin, PlaceResult) and not twin.created
    assert twin.order.id == first.order.id
    assert isinstance(reused, IdempotencyKeyReused)
    assert isinstance(foreign, AccountNotFound)
    assert isinstance(second, PlaceResult) and second.order.status is OrderStatus.NEW
    assert isinstance(refused, PlaceResult) and refused.created
    assert refused.order.status is OrderStatus.REJECTED
    assert refused.order.reject_reason == "insufficient_buying_power"
    assert isinstance(last, PlaceResult) and last.order.hold == Decimal("400")

    assert await balances(db, mine["id"]) == (Decimal("0"), Decimal("1000"))
    assert await balances(db, theirs["id"]) == (Decimal("1000"), Decimal("0"))
    assert await stored_orders(db, mine["id"]) == 4  # k1, k2, k3 (rejected), k4
    assert await stored_orders(db, theirs["id"]) == 0
    assert await entries(db, mine["id"], EntryKind.HOLD) == 3
    await assert_ledger_clean(db)
    await assert_audit_chain_intact(db)


async def test_concurrent_placements_share_transactions_and_all_land(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    headers = await trader(client, db)
    url, account = await account_url(client, headers, starting_cash="100000.00")
    await listed(db)
    batcher = app_state(app).placements
    before = batcher.batches
    answers = await asyncio.gather(
        *(place(client, headers, url, order(qty="1"), key=f"k{n}") for n in range(PARALLEL))
    )
    assert [answer.status_code for answer in answers] == [201] * PARALLEL
    assert len({answer.json()["id"] for answer in answers}) == PARALLEL
    assert batcher.batches - before < PARALLEL // 2  # group commit, not one per request
    assert await stored_orders(db, account["id"]) == PARALLEL
    assert await entries(db, account["id"], EntryKind.HOLD) == PARALLEL
    await assert_ledger_clean(db)
    await assert_audit_chain_intact(db)


async def test_a_failed_batch_is_placed_again_one_by_one(
    app: FastAPI, client: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = await trader(client, db)
    url, account = await account_url(client, headers, starting_cash="100000.00")
    await listed(db)

    async def broken(*args: Any, **kwargs: Any) -> list[Any]:
        raise RuntimeError("the batch transaction failed")

    monkeypatch.setattr(order_batch, "place_batch", broken)
    batcher = app_state(app).placements
    answers = await asyncio.gather(
        *(place(client, headers, url, order(qty="1"), key=f"k{n}") for n in range(5)),
        place(client, headers, url, order(qty="1"), key="k0"),  # a twin, answered as one
    )
    assert [answer.status_code for answer in answers] == [201] * 6
    assert answers[-1].json()["id"] == answers[0].json()["id"]
    assert answers[-1].headers.get("idempotent-replayed") == "true"
    assert batcher.fallbacks >= 1
    assert await stored_orders(db, account["id"]) == 5
    await assert_ledger_clean(db)
