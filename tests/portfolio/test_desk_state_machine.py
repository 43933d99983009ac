"""A Hypothesis state machine over the paper desk's services (issue 12, "Proof"): place
(every type, side and time in force, quantities and prices near the market, some that must
be rejected), cancel, replace, deposit, withdraw (some too large) and market events (random
bars around the last price, sometimes re-delivered or stale), with the invariants checked
after every step: the ledger's (legs balance, cash/held = their legs, held = open orders'
holds, position = fills = lots, securities = lots' cost, cash >= 0), the orders' (filled_qty
<= qty, never both filled and canceled, filled figures = their fills), the fills' (inside the
bar, never beyond the limit, never on the bar of acceptance), the model's (cash = deposits -
withdrawals - buys + sells - fees, each accepted order's hold, each reject's reason), and
"a refused request or a re-delivered event changed nothing". `verify_ledger` over the whole
database runs after every step on PostgreSQL and after every sequence on SQLite (with a last
wide bar that fills most resting orders), where the per-step check covers the same
invariants for the one account a sequence touches, five queries instead of twelve.

Speed: services are called directly (no HTTP), one transaction per step; each sequence gets a
fresh symbol and account, and SQLite a new copy of the migrated template every ROTATE
sequences. Derandomized under CI=true (the same sequences every run; a CI failure reproduces
locally with CI=true), new ones elsewhere.

Length: `make test` runs 200 sequences on SQLite and 100 on PostgreSQL (about 40 s, so the
whole suite stays under 15 minutes); `make test-stateful`, which `.ci/run` runs after
`make test`, runs the full 2,000 SQLite sequences (about 5 minutes on a 2-core box).
QUANTDESK_MACHINE_SEQUENCES=<n> sets the SQLite count."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.errors import Unprocessable
from quantdesk.infra.events import MarketEvent
from quantdesk.models.marketdata import AssetClass
from quantdesk.models.portfolio import OrderSide, OrderStatus, OrderType, TimeInForce
from quantdesk.portfolio.account_schemas import AccountCreate, MoneyMove
from quantdesk.portfolio.accounts import account_service
from quantdesk.portfolio.desk import Desk
from quantdesk.portfolio.order_errors import OrderNotOpen
from quantdesk.portfolio.order_schemas import OrderReplace
from quantdesk.portfolio.orders import order_service
from tests.support.paper_machine import (
    bar_event,
    cents,
    check_account,
    check_fills_of_event,
    check_whole_ledger,
    full_bar,
    snapshot,
)
from tests.support.paper_machine_env import (
    ACCOUNTS,
    ASSETS,
    CI,
    DAY0,
    EVENT,
    PLACE,
    PRICES,
    QTYS,
    STEPS_PCT,
    TIFS,
    Env,
    T,
    open_database,
    twice_rule,
)
from tests.support.paper_machine_orders import expect_place, order_body, replace_terms
from tests.support.paper_orders import listed
from tests.support.settings import sqlite_url

SEQUENCES = {"sqlite": int(os.environ.get("QUANTDESK_MACHINE_SEQUENCES", 200)), "postgresql": 100}
STEPS = 10


class DeskMachine(RuleBasedStateMachine):
    env: ClassVar[Env]
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.env.begin_sequence()
        self.n = next(self.env.serial)
        self.symbol = f"SM{self.n}"
        self.desk = Desk(self.env.db, self.env.settings)
        self.account_id = ""
        self.net = Decimal(0)  # starting cash + deposits - withdrawals
        self.last = Decimal(0)
        self.ts = DAY0
        self.unchanged = False

    # --- plumbing ----------------------------------------------------------------------
    def tx(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        return self.env.tx(work)

    def refused(
        self, work: Callable[[AsyncSession], Awaitable[Any]], error: type[Exception]
    ) -> None:
        """`work` raises `error` and leaves the account and its symbol as they were."""
        before = self.tx(lambda s: snapshot(s, self.account_id, self.symbol))
        with pytest.raises(error) as refusal:
            self.tx(work)
        assert type(refusal.value) is error, refusal.value  # e.g. not a ReplaceRejected
        after = self.tx(lambda s: snapshot(s, self.account_id, self.symbol))
        assert after == before
        self.unchanged = True  # the invariants held on this very state after the last step
        self.env.count(f"refused {error.__name__}")

    async def lock(self, session: AsyncSession) -> Any:
        return await account_service.lock_owned(session, self.env.user_id, self.account_id)

    # --- the sequence's account and symbol ---------------------------------------------
    @initialize(asset=st.sampled_from(ASSETS), price=PRICES, account=ACCOUNTS)
    def open_account(self, asset: AssetClass, price: str, account: AccountCreate) -> None:
        self.last = Decimal(price)
        self.env.run(listed(self.env.db, self.symbol, asset_class=asset, price=float(price)))
        body = account.model_copy(update={"name": f"machine {self.n}"})

        async def create(session: AsyncSession) -> str:
            created = await account_service.create(session, self.env.user_id, body)
            return created.id

        self.account_id = self.tx(create)
        self.net = body.starting_cash

    # --- orders --------------------------------------------------------------------------
    @twice_rule(target=orders, **PLACE)
    def place(
        self,
        side: OrderSide,
        type_: OrderType,
        tif: TimeInForce,
        qty: str,
        limit_pct: int,
        stop_pct: int,
        unknown: int,
    ) -> Any:
        self.env.steps += 1
        symbol = f"NOPE{self.n}" if unknown == 0 else self.symbol
        body = order_body(symbol, side, type_, tif, Decimal(qty), self.last, limit_pct, stop_pct)

        async def work(session: AsyncSession) -> str:
            account = await self.lock(session)
            free, held = account.cash, account.held
            expected = await expect_place(session, self.env.settings, account, body)
            result = await order_service.place(
                session, self.env.settings, account=account, body=body
            )
            order = result.order
            assert result.created
            if expected.reject_reason is not None:
                assert order.status is OrderStatus.REJECTED
                assert order.reject_reason == expected.reject_reason, order.reason_detail
                assert (account.cash, account.held, order.hold) == (free, held, Decimal(0))
                self.env.count(f"rejected {expected.reject_reason}")
            else:
                assert order.status is OrderStatus.NEW, order.reject_reason
                assert order.hold == expected.hold
                assert (account.cash, account.held) == (free - order.hold, held + order.hold)
                self.env.count("accepted")
            return order.id if order.status is OrderStatus.NEW else ""

        # Only accepted orders go to the bundle that cancel and replace draw from.
        placed = self.tx(work)
        return placed or multiple()

    @rule(order_id=orders)
    def cancel(self, order_id: str) -> None:
        async def work(session: AsyncSession) -> None:
            account = await self.lock(session)
            free, held = account.cash, account.held
            order = await order_service.get(session, account, order_id)
            hold = order.hold
            canceled = await order_service.cancel(session, account=account, order_id=order_id)
            assert canceled.status is OrderStatus.CANCELED and canceled.hold == 0
            assert (account.cash, account.held) == (free + hold, held - hold)

        self.env.steps += 1
        if self.tx(lambda s: self._is_open(s, order_id)):
            self.tx(work)
            self.env.count("canceled")
        else:
            self.refused(work, OrderNotOpen)

    @rule(
        target=orders,
        order_id=orders,
        fields=st.sets(
            st.sampled_from(["qty", "limit_price", "stop_price", "time_in_force"]), min_size=1
        ),
        qty=st.sampled_from(QTYS),
        limit_pct=STEPS_PCT,
        stop_pct=STEPS_PCT,
        tif=TIFS,
    )
    def replace(
        self,
        order_id: str,
        fields: set[str],
        qty: str,
        limit_pct: int,
        stop_pct: int,
        tif: TimeInForce,
    ) -> Any:
        self.env.steps += 1
        values: dict[str, Any] = {
            "qty": Decimal(qty),
            "limit_price": cents(self.last * (1 + Decimal(limit_pct) / 100)),
            "stop_price": cents(self.last * (1 + Decimal(stop_pct) / 100)),
            "time_in_force": tif,
        }
        body = OrderReplace(**{name: values[name] for name in fields})
        plan = self.tx(
            lambda s: replace_terms(s, self.env.settings, self.account_id, order_id, body)
        )

        async def work(session: AsyncSession) -> str:
            account = await self.lock(session)
            free, held = account.cash, account.held
            result = await order_service.replace(
                session, self.env.settings, account=account, order_id=order_id, body=body
            )
            old = await order_service.get(session, account, order_id)
            new = result.order
            assert old.status is OrderStatus.REPLACED and old.hold == 0
            assert (new.replaces, old.replaced_by) == (old.id, new.id)
            assert new.status is OrderStatus.NEW and new.hold == plan.hold
            assert new.qty == plan.qty
            assert (account.cash, account.held) == (
                free + plan.released - new.hold,
                held - plan.released + new.hold,
            )
            return new.id

        if plan.error is not None:
            self.refused(work, plan.error)
            return multiple()
        self.env.count("replaced")
        return self.tx(work)

    async def _is_open(self, session: AsyncSession, order_id: str) -> bool:
        account = await account_service.get_owned(session, self.env.user_id, self.account_id)
        order = await order_service.get(session, account, order_id)
        return order.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)

    # --- money ---------------------------------------------------------------------------
    @rule(
        deposit=st.sampled_from(["", "", "0.01", "1", "250.5", "10000"]),
        quarters=st.integers(1, 4),
        too_much=st.sampled_from(["0", "0", "0.01", "1000"]),
    )
    def money(self, deposit: str, quarters: int, too_much: str) -> None:
        """A deposit of `deposit`, else a withdrawal of `quarters`/4 of the free cash (more
        than the free cash by `too_much`, when not 0: refused)."""
        self.env.steps += 1
        if deposit:
            move = MoneyMove(amount=Decimal(deposit))
            self.tx(lambda s: account_service.deposit(s, self.env.user_id, self.account_id, move))
            self.net += move.amount
            self.env.count("deposit")
            return
        free = self.tx(lambda s: self._free(s))
        amount = cents(free * quarters / 4) if free >= Decimal("0.04") else Decimal(0)
        if too_much != "0" or amount == 0 or amount > free:
            extra = Decimal(too_much if too_much != "0" else "0.01")
            too_large = MoneyMove(amount=free + extra)
            self.refused(
                lambda s: account_service.withdraw(s, self.env.user_id, self.account_id, too_large),
                Unprocessable,
            )
            return
        move = MoneyMove(amount=amount)
        self.tx(lambda s: account_service.withdraw(s, self.env.user_id, self.account_id, move))
        self.net -= amount
        self.env.count("withdrawal")

    async def _free(self, session: AsyncSession) -> Decimal:
        account = await account_service.get_owned(session, self.env.user_id, self.account_id)
        free: Decimal = account.cash
        return free

    # --- the market ----------------------------------------------------------------------
    @twice_rule(**EVENT)
    def market_event(
        self,
        gap: int,
        drift: int,
        move: int,
        up: int,
        down: int,
        volume: float,
        quote: int,
        again: str,
    ) -> None:
        self.env.steps += 1
        self.ts += gap
        event = bar_event(
            self.symbol,
            self.ts,
            self.last,
            drift=drift,
            move=move,
            up=up,
            down=down,
            volume=volume,
            quote=quote == 0,
        )
        self.deliver(event)
        if again:
            redelivered = event
            if again == "stale":
                redelivered = full_bar(self.symbol, self.ts - 60, self.last, -drift, 1, 1)
            before = self.tx(lambda s: snapshot(s, self.account_id, self.symbol))
            assert self.env.run(self.desk.process(redelivered)).skipped
            after = self.tx(lambda s: snapshot(s, self.account_id, self.symbol))
            assert after == before
            self.env.count(f"re-delivered {again}")

    def deliver(self, event: MarketEvent) -> None:
        """Process a new market event: the clock advances, and every fill it booked is
        inside the bar, within its limit, on an order accepted before it."""
        applied = self.env.run(self.desk.process(event))
        assert not applied.skipped and applied.seq is not None
        self.last = cents(Decimal(repr(event.close)))
        seq = applied.seq
        fills = self.tx(lambda s: check_fills_of_event(s, self.account_id, seq, event))
        assert fills == applied.fills
        self.env.events += 1
        self.env.fills += fills

    # Placing and market events twice as likely as the other rules.
    @twice_rule(target=orders, **PLACE)
    def place_another(self, **order: Any) -> Any:
        return self.place(**order)

    @twice_rule(**EVENT)
    def another_market_event(self, **bar: Any) -> None:
        self.market_event(**bar)

    # --- after every step, and at the end ----------------------------------------------
    @invariant()
    def ledger_holds(self) -> None:
        if self.unchanged:
            self.unchanged = False
            return
        self.tx(lambda s: check_account(s, self.account_id, self.symbol, self.net))
        if self.env.verify_every_step:
            self.tx(lambda s: check_whole_ledger(s, self.account_id, self.symbol))

    def teardown(self) -> None:
        """A last wide bar (6% either side of the last price, full volume) fills or triggers
        most resting orders; then every invariant, and `verify_ledger` over the database."""
        if not self.account_id:
            return
        self.ts += 3600
        self.deliver(full_bar(self.symbol, self.ts, self.last, 0, self.n % 7 - 3, 60))
        self.tx(lambda s: check_account(s, self.account_id, self.symbol, self.net))
        self.tx(lambda s: check_whole_ledger(s, self.account_id, self.symbol))


@pytest.mark.timeout(1800)
def test_every_ledger_invariant_holds_after_every_step(
    database_url: str, sqlite_template: Path, tmp_path: Path
) -> None:
    engine = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    copies = itertools.count()
    with asyncio.Runner() as runner:

        def fresh_copy() -> tuple[Settings, Database, int]:
            path = tmp_path / f"machine-{next(copies)}.db"
            shutil.copyfile(sqlite_template, path)
            return runner.run(open_database(sqlite_url(path)))

        settings, db, user_id = runner.run(open_database(database_url))
        sqlite = engine == "sqlite"
        env = Env(runner, settings, db, user_id, fresh_copy if sqlite else None, not sqlite)
        machine = type("DeskMachineRun", (DeskMachine,), {"env": env})
        try:
            run_state_machine_as_test(
                machine,
                settings=hsettings(
                    max_examples=SEQUENCES[engine],
                    stateful_step_count=STEPS,
                    deadline=None,
                    derandomize=CI,
                    suppress_health_check=[HealthCheck.too_slow],
                ),
            )
        finally:
            runner.run(env.db.dispose())
    print(
        f"desk state machine on {engine}: {env.sequences} sequences, {env.steps} steps, "
        f"{env.events} market events, {env.fills} fills; {sorted(env.counts.items())}"
    )
    assert env.sequences >= SEQUENCES[engine]
