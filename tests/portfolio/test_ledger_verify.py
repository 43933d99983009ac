"""The ledger on SQLite and PostgreSQL: the database refuses unbalanced or altered entries and
an overdraw; `verify_ledger` / `quantdesk ledger verify` / GET /admin/ledger/verify find
every kind of tampering."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import anyio
import httpx
import pytest
from sqlalchemy import delete, insert, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner, Result

from quantdesk.access.scopes import Role
from quantdesk.cli import app as cli
from quantdesk.config import get_settings
from quantdesk.db import Database
from quantdesk.models.portfolio import (
    EntryKind,
    EntryStatus,
    LedgerEntry,
    LedgerLeg,
    MarketClock,
    OrderSide,
    OrderStatus,
    OrderType,
    PaperAccount,
    PaperFill,
    PaperOrder,
    PaperPosition,
    PositionLot,
    TimeInForce,
)
from quantdesk.portfolio import ledger
from quantdesk.portfolio.ledger import Leg
from tests.support.paper import assert_ledger_clean, create_account, ledger_report, trader
from tests.support.problems import assert_problem

Tamper = Callable[[AsyncSession, str], Awaitable[None]]


async def desk_state(db: Database, client: httpx.AsyncClient) -> str:
    """An account as the desk leaves it: 1000 deposited, a resting buy holding 101, and a
    filled buy of 2 GOOG @ 100.00 (fee 1) whose lot, position and fill are stored."""
    headers = await trader(client, db)
    account_id = str((await create_account(client, headers, starting_cash="1000"))["id"])
    async with db.session() as session:
        account = await session.get(PaperAccount, account_id)
        assert account is not None
        for order_id, status, hold in (
            ("o1", OrderStatus.NEW, "101"),
            ("o2", OrderStatus.FILLED, "0"),
        ):
            session.add(
                PaperOrder(
                    id=order_id + account_id[:20],
                    account_id=account_id,
                    symbol="GOOG",
                    side=OrderSide.BUY,
                    type=OrderType.LIMIT,
                    time_in_force=TimeInForce.GTC,
                    qty=Decimal(2),
                    limit_price=Decimal(100),
                    status=status,
                    hold=Decimal(hold),
                    filled_qty=Decimal(2 if status is OrderStatus.FILLED else 0),
                )
            )
        await session.flush()
        await ledger.post(
            session,
            account,
            EntryKind.HOLD,
            [Leg("cash", Decimal(-101)), Leg("held", Decimal(101))],
        )
        session.add(
            PaperFill(
                id="f" + account_id[:20],
                order_id="o2" + account_id[:20],
                account_id=account_id,
                symbol="GOOG",
                side=OrderSide.BUY,
                qty=Decimal(2),
                price=Decimal(100),
                notional=Decimal(200),
                fee=Decimal(1),
                event_seq=1,
                market_ts=1,
            )
        )
        await ledger.post(
            session,
            account,
            EntryKind.FILL,
            [Leg("cash", Decimal(-200)), Leg("securities:GOOG", Decimal(200))],
        )
        await ledger.post(
            session, account, EntryKind.FEE, [Leg("cash", Decimal(-1)), Leg("fees", Decimal(1))]
        )
        session.add(
            PaperPosition(
                account_id=account_id, symbol="GOOG", qty=Decimal(2), cost_basis=Decimal(200)
            )
        )
        session.add(
            PositionLot(
                account_id=account_id,
                symbol="GOOG",
                fill_id="f",
                qty=Decimal(2),
                price=Decimal(100),
                market_ts=1,
            )
        )
        if await session.get(MarketClock, "GOOG") is None:
            session.add(MarketClock(symbol="GOOG", seq=1, ts=1, last_price=Decimal("110.5")))
    return account_id


async def test_a_desk_state_verifies_clean_with_its_equity(
    client: httpx.AsyncClient, db: Database
) -> None:
    account_id = await desk_state(db, client)
    report = await assert_ledger_clean(db)
    [row] = [row for row in report.equity if row.account_id == account_id]
    # cash 1000 - 101 held - 200 - 1 fee; equity = 698 + 101 + 2 x 110.5
    assert (row.cash, row.held, row.positions_value, row.equity) == (
        Decimal(698),
        Decimal(101),
        Decimal(221),
        Decimal(1020),
    )
    assert report.entries >= 4 and report.legs >= 8


async def _cash(session: AsyncSession, account_id: str) -> None:
    await session.execute(
        update(PaperAccount).where(PaperAccount.id == account_id).values(cash=Decimal(700))
    )


async def _held(session: AsyncSession, account_id: str) -> None:
    await session.execute(
        update(PaperAccount)
        .where(PaperAccount.id == account_id)
        .values(held=Decimal(100), cash=Decimal(699))
    )


async def _order_hold(session: AsyncSession, account_id: str) -> None:
    await session.execute(
        update(PaperOrder).where(PaperOrder.id == "o1" + account_id[:20]).values(hold=Decimal(50))
    )


async def _finished_order_keeps_hold(session: AsyncSession, account_id: str) -> None:
    await session.execute(
        update(PaperOrder).where(PaperOrder.id == "o2" + account_id[:20]).values(hold=Decimal(5))
    )


async def _position_qty(session: AsyncSession, account_id: str) -> None:
    await session.execute(
        update(PaperPosition).where(PaperPosition.account_id == account_id).values(qty=Decimal(3))
    )


async def _lot_price(session: AsyncSession, account_id: str) -> None:
    await session.execute(
        update(PositionLot).where(PositionLot.account_id == account_id).values(price=Decimal(99))
    )


async def _leg_deleted(session: AsyncSession, account_id: str) -> None:
    await session.execute(
        delete(LedgerLeg).where(LedgerLeg.account_id == account_id, LedgerLeg.book == "fees")
    )


async def _draft_left(session: AsyncSession, account_id: str) -> None:
    session.add(
        LedgerEntry(account_id=account_id, kind=EntryKind.DEPOSIT, status=EntryStatus.DRAFT)
    )


@pytest.mark.parametrize(
    ("tamper", "checks"),
    [
        (_cash, {"cash_matches_legs"}),
        (_held, {"cash_matches_legs", "held_matches_legs", "held_matches_orders"}),
        (_order_hold, {"held_matches_orders"}),
        (_finished_order_keeps_hold, {"held_matches_orders"}),
        (_position_qty, {"position_qty_matches_fills", "position_qty_matches_lots"}),
        (_lot_price, {"cost_basis_matches_lots", "securities_match_lots"}),
        (_leg_deleted, {"entries_balance"}),
        (_draft_left, {"no_drafts"}),
    ],
    ids=lambda value: getattr(value, "__name__", "").strip("_") or None,
)
async def test_verify_reports_each_kind_of_tampering(
    client: httpx.AsyncClient, db: Database, tamper: Tamper, checks: set[str]
) -> None:
    account_id = await desk_state(db, client)
    async with db.session() as session:
        await tamper(session, account_id)
    report = await ledger_report(db)
    assert not report.ok
    assert {v.check for v in report.violations} == checks
    assert {v.account_id for v in report.violations} == {account_id}
    assert report.violation_count == len(report.violations)


async def test_the_database_refuses_an_unbalanced_entry(
    client: httpx.AsyncClient, db: Database
) -> None:
    account_id = await desk_state(db, client)
    async with db.session() as session:
        entry = LedgerEntry(account_id=account_id, kind=EntryKind.DEPOSIT, status=EntryStatus.DRAFT)
        session.add(entry)
        await session.flush()
        entry_id = entry.id
        legs = [("cash", Decimal(10)), ("external", Decimal(-9))]
        await session.execute(
            insert(LedgerLeg),
            [
                {
                    "entry_id": entry_id,
                    "account_id": account_id,
                    "book": b,
                    "currency": "USD",
                    "amount": a,
                }
                for b, a in legs
            ],
        )
        with pytest.raises(IntegrityError):
            async with session.begin_nested():
                await session.execute(
                    update(LedgerEntry)
                    .where(LedgerEntry.id == entry_id)
                    .values(status=EntryStatus.POSTED)
                )
        await session.rollback()
    await assert_ledger_clean(db)


async def _insert_leg(session: AsyncSession, entry_id: int, account_id: str) -> None:
    await session.execute(
        insert(LedgerLeg).values(
            entry_id=entry_id, account_id=account_id, book="cash", currency="USD", amount=Decimal(5)
        )
    )


async def _update_leg(session: AsyncSession, entry_id: int, account_id: str) -> None:
    await session.execute(
        update(LedgerLeg).where(LedgerLeg.entry_id == entry_id).values(amount=Decimal(1))
    )


async def _unpost(session: AsyncSession, entry_id: int, account_id: str) -> None:
    await session.execute(
        update(LedgerEntry).where(LedgerEntry.id == entry_id).values(status=EntryStatus.DRAFT)
    )


@pytest.mark.parametrize(
    "change", [_insert_leg, _update_leg, _unpost], ids=["insert", "update", "unpost"]
)
async def test_a_posted_entry_never_changes(
    client: httpx.AsyncClient,
    db: Database,
    change: Callable[[AsyncSession, int, str], Awaitable[None]],
) -> None:
    account_id = await desk_state(db, client)
    async with db.session() as session:
        entry_id = await session.scalar(
            text("SELECT MIN(id) FROM ledger_entries WHERE account_id = :a"), {"a": account_id}
        )
        assert isinstance(entry_id, int)
        with pytest.raises(IntegrityError):
            async with session.begin_nested():
                await change(session, entry_id, account_id)
        await session.rollback()
    await assert_ledger_clean(db)


async def test_the_database_refuses_negative_cash(client: httpx.AsyncClient, db: Database) -> None:
    account_id = await desk_state(db, client)
    async with db.session() as session:
        for column in ("cash", "held"):
            with pytest.raises(IntegrityError):
                async with session.begin_nested():
                    await session.execute(
                        update(PaperAccount)
                        .where(PaperAccount.id == account_id)
                        .values({column: Decimal("-0.01")})
                    )
        await session.rollback()
    await assert_ledger_clean(db)


async def _invoke(args: list[str]) -> Result:
    """The CLI in a worker thread (it runs its own event loop)."""
    return await anyio.to_thread.run_sync(CliRunner().invoke, cli, args)


async def test_cli_exits_1_listing_a_tampered_balance(
    client: httpx.AsyncClient, db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = await desk_state(db, client)
    monkeypatch.setenv("QUANTDESK_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        clean = await _invoke(["ledger", "verify", "--equity"])
        assert clean.exit_code == 0, clean.output
        assert "ledger clean" in clean.output and account_id in clean.output
        async with db.session() as session:
            await _cash(session, account_id)
        broken = await _invoke(["ledger", "verify"])
        assert broken.exit_code == 1, broken.output
        assert "cash_matches_legs" in broken.output and account_id in broken.output
        as_json = await _invoke(["ledger", "verify", "--json"])
        assert as_json.exit_code == 1
        assert '"ok": false' in as_json.stdout
    finally:
        get_settings.cache_clear()


async def test_admin_endpoint_reports_the_ledger(client: httpx.AsyncClient, db: Database) -> None:
    account_id = await desk_state(db, client)
    admin, user = await trader(client, db, Role.ADMIN), await trader(client, db)
    assert_problem(await client.get("/api/v1/admin/ledger/verify", headers=user), 403)
    clean = await client.get("/api/v1/admin/ledger/verify", headers=admin)
    assert clean.status_code == 200, clean.text
    assert clean.json()["ok"] is True
    [row] = [row for row in clean.json()["equity"] if row["account_id"] == account_id]
    assert row["equity"] == "1020.00"
    async with db.session() as session:
        await _cash(session, account_id)
    broken = (await client.get("/api/v1/admin/ledger/verify", headers=admin)).json()
    assert broken["ok"] is False
    assert [(v["check"], v["account_id"]) for v in broken["violations"]] == [
        ("cash_matches_legs", account_id)
    ]
