"""Order tests: instruments with a stored quote (no market event, so no fills), a symbol's
market clock, and placing orders through the API."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select

from quantdesk.db import Database
from quantdesk.marketdata.schemas import InstrumentCreate
from quantdesk.marketdata.service import instrument_service
from quantdesk.models.marketdata import AssetClass, Quote
from quantdesk.models.portfolio import EntryKind, LedgerEntry, MarketClock, PaperAccount

DAY0 = 1704153600  # 2024-01-02 00:00 UTC


async def listed(
    db: Database,
    symbol: str = "ACME",
    *,
    asset_class: AssetClass = AssetClass.EQUITY,
    price: float = 100.0,
) -> None:
    """An instrument whose stored quote is `price` (what a placement's hold is priced at
    while the desk has processed no market event of it)."""
    async with db.session() as session:
        instrument = await instrument_service.upsert(
            session,
            InstrumentCreate(
                symbol=symbol,
                name=f"{symbol} test",
                exchange="TEST",
                asset_class=asset_class,
                currency="USD",
            ),
        )
        session.add(
            Quote(
                instrument_id=instrument.id,
                price=price,
                as_of=datetime.fromtimestamp(DAY0, tz=UTC),
                source="test",
            )
        )


async def set_clock(
    db: Database, symbol: str, *, seq: int = 7, ts: int = DAY0, last_price: str = "100"
) -> None:
    """The symbol's market clock as if the desk had processed `seq` events, the last at `ts`."""
    async with db.session() as session:
        session.add(MarketClock(symbol=symbol, seq=seq, ts=ts, last_price=Decimal(last_price)))


def order(**fields: Any) -> dict[str, Any]:
    """A market buy of 10 ACME, with `fields` changed."""
    return {"symbol": "ACME", "side": "buy", "type": "market", "qty": "10", **fields}


async def place(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    account_url: str,
    body: dict[str, Any],
    *,
    key: str | None = None,
) -> httpx.Response:
    sent = dict(headers)
    if key is not None:
        sent["Idempotency-Key"] = key
    return await client.post(f"{account_url}/orders", json=body, headers=sent)


async def balances(db: Database, account_id: str) -> tuple[Decimal, Decimal]:
    """(cash, held) as stored."""
    async with db.session() as session:
        account = await session.get(PaperAccount, account_id)
        assert account is not None
        return account.cash, account.held


async def entries(db: Database, account_id: str, kind: EntryKind) -> int:
    """How many ledger entries of `kind` the account has."""
    async with db.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.account_id == account_id, LedgerEntry.kind == kind)
        )
    return int(count or 0)
