"""Plumbing of the desk state machine (tests/portfolio/test_desk_state_machine.py): what its
sequences share (`Env`: the event loop, the database, one user, counters), the strategies of
its two rules that appear twice, and opening a database for it."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar, cast

from hypothesis import strategies as st
from hypothesis.stateful import rule
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.models.marketdata import AssetClass
from quantdesk.models.portfolio import OrderSide, OrderType, TimeInForce
from quantdesk.portfolio.account_schemas import AccountCreate, FillModelIn
from tests.support.accounts import create_user
from tests.support.settings import make_settings

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
CI = os.environ.get("CI", "").lower() == "true"
ROTATE = 50  # SQLite: sequences per database copy
DAY0 = 1704189600  # 2024-01-02 10:00 UTC
# Mostly quantities every asset class takes; some with too many decimals, one too large.
QTYS = ("1", "3", "10", "25", "120", "0.5", "2.25", "1", "10", "0.00001", "1.23456", "100000")
SIDES = st.sampled_from(list(OrderSide))
TYPES = st.sampled_from(list(OrderType))
TIFS = st.sampled_from(list(TimeInForce))
STEPS_PCT = st.integers(-3, 3)  # limit / stop prices: percent from the last price
PLACE: dict[str, st.SearchStrategy[Any]] = {
    "side": SIDES,
    "type_": TYPES,
    "tif": TIFS,
    "qty": st.sampled_from(QTYS),
    "limit_pct": STEPS_PCT,
    "stop_pct": STEPS_PCT,
    "unknown": st.integers(0, 24),
}
EVENT: dict[str, st.SearchStrategy[Any]] = {
    "gap": st.sampled_from([3600, 4 * 3600, 86_400, 3 * 86_400]),
    "drift": st.integers(-30, 30),
    "move": st.integers(-30, 30),
    "up": st.integers(0, 20),
    "down": st.integers(0, 20),
    "volume": st.sampled_from([0.0, 40.0, 1000.0, 1e6, 1e6]),
    "quote": st.integers(0, 9),
    "again": st.sampled_from(["", "", "", "same", "stale"]),
}


ASSETS = (AssetClass.EQUITY, AssetClass.EQUITY, AssetClass.CRYPTO, AssetClass.FX)
PRICES = st.sampled_from(["0.5", "12.34", "100", "2500"])


def _decimal(values: list[str]) -> st.SearchStrategy[Decimal]:
    return st.sampled_from([Decimal(value) for value in values])


# A sequence's account: its cash (sometimes none), fill model and whether it may short.
ACCOUNTS = st.builds(
    AccountCreate,
    name=st.just("machine"),
    starting_cash=_decimal(["0", "1000", "10000", "100000", "100000"]),
    allow_short=st.booleans(),
    fill_model=st.builds(
        FillModelIn,
        slippage_bps=_decimal(["0", "5", "50"]),
        fee_bps=_decimal(["0", "10"]),
        fee_min=_decimal(["0", "1"]),
        max_participation=st.none() | _decimal(["0.1", "1"]),
    ),
)


def twice_rule(**strategies: Any) -> Callable[[F], F]:
    """hypothesis' `rule` for strategies given as a dict (two rules share them)."""
    make: Any = rule
    return cast(Callable[[F], F], make(**strategies))


@dataclass
class Env:
    """What every sequence of one test shares: the loop, the database, one user, counters."""

    runner: asyncio.Runner
    settings: Settings
    db: Database
    user_id: int
    next_db: Callable[[], tuple[Settings, Database, int]] | None
    verify_every_step: bool
    sequences: int = 0
    steps: int = 0
    events: int = 0
    fills: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    serial: itertools.count[int] = field(default_factory=itertools.count)

    def run(self, work: Awaitable[T]) -> T:
        return self.runner.run(work)  # type: ignore[arg-type]

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def tx(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """`work` in one transaction: committed, or rolled back when it raises."""

        async def run() -> T:
            async with self.db.sessionmaker() as session:
                try:
                    result = await work(session)
                except BaseException:
                    await session.rollback()
                    raise
                await session.commit()
                return result

        return self.run(run())

    def begin_sequence(self) -> None:
        if self.next_db is not None and self.sequences and self.sequences % ROTATE == 0:
            self.run(self.db.dispose())
            self.settings, self.db, self.user_id = self.next_db()
        self.sequences += 1


async def open_database(url: str) -> tuple[Settings, Database, int]:
    """Settings and a database of `url`, with the user every sequence's account belongs to."""
    settings = make_settings(url)
    db = Database(settings)
    user = await create_user(db)
    return settings, db, user.id
