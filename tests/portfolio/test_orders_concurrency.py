"""Concurrent placement on one account: parallel buys whose total exceeds the cash never
overdraw, and concurrent duplicates of one Idempotency-Key make exactly one order."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal

import httpx

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.models.portfolio import EntryKind, PaperAccount
from quantdesk.portfolio.order_schemas import OrderCreate
from quantdesk.portfolio.orders import PlaceResult, order_service
from tests.support.paper import account_url, assert_ledger_clean, trader
from tests.support.paper_orders import balances, entries, listed, order, place

PARALLEL = 50
DUPLICATES = 20


async def test_parallel_buys_beyond_the_cash_never_overdraw(
    client: httpx.AsyncClient, db: Database
) -> None:
    headers = await trader(client, db)
    url, account = await account_url(client, headers, starting_cash="10000.00")
    await listed(db)
    # Each holds 3 x 100 = 300 (a limit order: no slippage, no fee): 50 of them want 15,000.
    body = order(type="limit", limit_price="100", qty="3")
    answers = await asyncio.gather(*(place(client, headers, url, body) for _ in range(PARALLEL)))
    codes = Counter(answer.status_code for answer in answers)
    assert codes == {201: 33, 422: 17}, codes
    reasons = {a.json()["reject_reason"] for a in answers if a.status_code == 422}
    assert reasons == {"insufficient_buying_power"}
    cash, held = await balances(db, account["id"])
    assert cash + held == Decimal("10000")
    assert held == Decimal("9900") and held <= cash + held
    assert await entries(db, account["id"], EntryKind.HOLD) == 33
    await assert_ledger_clean(db)


async def test_concurrent_duplicates_of_one_key_make_one_order(
    client: httpx.AsyncClient, db: Database
) -> None:
    headers = await trader(client, db)
    url, account = await account_url(client, headers, starting_cash="10000.00")
    await listed(db)
    answers = await asyncio.gather(
        *(place(client, headers, url, order(qty="5"), key="twin") for _ in range(DUPLICATES))
    )
    assert {answer.status_code for answer in answers} == {201}
    assert len({answer.json()["id"] for answer in answers}) == 1
    replayed = [answer.headers.get("idempotent-replayed") for answer in answers]
    assert replayed.count("true") == DUPLICATES - 1
    listing = (await client.get(f"{url}/orders", headers=headers)).json()
    assert len(listing["data"]) == 1
    assert await entries(db, account["id"], EntryKind.HOLD) == 1
    assert await balances(db, account["id"]) == (Decimal("9499.75"), Decimal("500.25"))
    await assert_ledger_clean(db)


async def test_a_placement_racing_past_the_lock_answers_the_stored_twin(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    """The UNIQUE (account_id, idempotency_key) fallback: a caller that skipped the account
    lock and loses the insert race gets the committed order, not an IntegrityError."""
    headers = await trader(client, db)
    _, account = await account_url(client, headers, starting_cash="10000.00")
    await listed(db)
    body = OrderCreate.model_validate(order(qty="5"))
    first_inserted, release_first = asyncio.Event(), asyncio.Event()

    async def first() -> PlaceResult:
        async with db.session() as session:
            owned = await session.get(PaperAccount, account["id"])
            assert owned is not None
            result = await order_service.place(
                session, settings, account=owned, body=body, idempotency_key="race"
            )
            first_inserted.set()
            await release_first.wait()
            return result

    async def second() -> PlaceResult:
        await first_inserted.wait()
        async with db.session() as session:
            owned = await session.get(PaperAccount, account["id"])
            assert owned is not None
            return await order_service.place(
                session, settings, account=owned, body=body, idempotency_key="race"
            )

    racing = asyncio.gather(first(), second())
    await first_inserted.wait()
    await asyncio.sleep(0.5)  # the second is now blocked on the first's uncommitted row
    release_first.set()
    won, lost = await racing
    assert (won.created, lost.created) == (True, False)
    assert lost.order.id == won.order.id
    assert await entries(db, account["id"], EntryKind.HOLD) == 1
    await assert_ledger_clean(db)
