"""The ledger part of the desk benchmark: `verify_ledger` on a migrated SQLite file holding
1,000,000 realistic ledger entries, and a plain `SELECT COUNT(*), SUM(amount)` over the
same legs as the reference.

The data is what the desk writes, bulk-inserted with stdlib `sqlite3` `executemany` (not
through the API): per account one deposit, then cycles of hold, release, buy fill, fee,
sell fill closing the lot (cash, securities, realized P&L legs) and fee, and at the end an
open buy order holding cash and an open position (fill, FIFO lot, position row) priced by
the market clock. Every balance is consistent, so the verify run finds no violation (the
benchmark asserts it). The ledger triggers are dropped while loading (they check each
posting one by one; the rows are posted and balanced by construction) and re-created
before timing.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from quantdesk import migrate
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.portfolio.verify import LedgerReport, verify_ledger

UNIT = 10**8  # Fixed8: amounts are integer units of 1e-8
ACCOUNTS = 1_000
CYCLE_ENTRIES = 6  # hold, release, buy fill, fee, sell fill, fee
TAIL_ENTRIES = 4  # deposit, open order's hold, open position's fill and fee
SYMBOLS = ("GOOG", "AAPL", "MSFT", "AMZN", "NVDA", "META", "TSLA", "NFLX")
CREATED = "2024-01-02 15:30:00.000000+00:00"


@dataclass(frozen=True)
class LedgerRun:
    entries: int
    legs: int
    load_seconds: float
    verify_seconds: list[float]  # wall clock, one per round
    verify_cpu: list[float]  # process CPU, one per round
    reference_cpu: list[float]  # SELECT COUNT(*), SUM(amount) FROM ledger_legs, process CPU
    report: LedgerReport


class _Writer:
    """Collects rows for executemany; ids are assigned here (integer primary keys)."""

    def __init__(self) -> None:
        self.entries: list[tuple[object, ...]] = []
        self.legs: list[tuple[object, ...]] = []
        self.fills: list[tuple[object, ...]] = []
        self.orders: list[tuple[object, ...]] = []
        self.entry_id = 0

    def post(self, account: str, kind: str, legs: list[tuple[str, int]], **ref: str) -> None:
        self.entry_id += 1
        order_id, fill_id = ref.get("order_id"), ref.get("fill_id")
        self.entries.append((self.entry_id, account, kind, "posted", order_id, fill_id, CREATED))
        for book, amount in legs:
            self.legs.append((self.entry_id, account, book, "USD", amount))


def _account(writer: _Writer, rng: random.Random, number: int, cycles: int) -> tuple[object, ...]:
    """One account's history; answers its paper_accounts row (cash and held in units)."""
    account = f"{number:032x}"
    cash, held = 1_000_000 * UNIT, 0
    writer.post(account, "deposit", [("cash", cash), ("external", -cash)])
    for cycle in range(cycles):
        symbol = SYMBOLS[cycle % len(SYMBOLS)]
        qty = rng.randint(1, 50)
        price = rng.randint(50 * 100, 500 * 100) * UNIT // 100
        exit_price = price + rng.randint(-500, 500) * UNIT // 100
        notional, exit_notional = qty * price, qty * exit_price
        fee = rng.randint(0, 200) * UNIT // 100
        buy, sell = f"b{number}-{cycle}", f"s{number}-{cycle}"
        hold = notional + notional // 2000
        writer.post(account, "hold", [("cash", -hold), ("held", hold)], order_id=buy)
        writer.post(account, "release", [("held", -hold), ("cash", hold)], order_id=buy)
        writer.post(
            account, "fill", [("cash", -notional), (f"securities:{symbol}", notional)], fill_id=buy
        )
        writer.post(account, "fee", [("cash", -fee), ("fees", fee)], fill_id=buy)
        pnl = exit_notional - notional
        writer.post(
            account,
            "fill",
            [(f"securities:{symbol}", -notional), ("cash", exit_notional), ("realized_pnl", -pnl)],
            fill_id=sell,
        )
        writer.post(account, "fee", [("cash", -fee), ("fees", fee)], fill_id=sell)
        cash += pnl - 2 * fee
        writer.fills.append(
            (buy, buy, account, symbol, "buy", qty * UNIT, price, notional, fee, 0, cycle, cycle)
        )
        writer.fills.append(
            (
                sell,
                sell,
                account,
                symbol,
                "sell",
                qty * UNIT,
                exit_price,
                exit_notional,
                fee,
                pnl,
                cycle + 1,
                cycle,
            )
        )
    # Left open: one resting buy (its hold) and one long position of 10 GOOG @ 100.
    order = f"open{number}"
    writer.orders.append(
        (order, account, "GOOG", "buy", "limit", "gtc", 5 * UNIT, 90 * UNIT, "new", 450 * UNIT)
    )
    writer.post(account, "hold", [("cash", -450 * UNIT), ("held", 450 * UNIT)], order_id=order)
    fill = f"pos{number}"
    writer.orders.append(
        (fill, account, "GOOG", "buy", "market", "day", 10 * UNIT, None, "filled", 0)
    )
    writer.post(
        account, "fill", [("cash", -1000 * UNIT), ("securities:GOOG", 1000 * UNIT)], fill_id=fill
    )
    writer.post(account, "fee", [("cash", -UNIT), ("fees", UNIT)], fill_id=fill)
    writer.fills.append(
        (
            fill,
            fill,
            account,
            "GOOG",
            "buy",
            10 * UNIT,
            100 * UNIT,
            1000 * UNIT,
            UNIT,
            0,
            10**6,
            10**6,
        )
    )
    cash -= 450 * UNIT + 1000 * UNIT + UNIT
    held += 450 * UNIT
    return (account, 1, f"paper {number}", "USD", "open", 0, cash, held, 0, CREATED)


def _insert(table: str, columns: str, constant_columns: str = "", constants: str = "") -> str:
    """INSERT INTO `table` (`columns` then `constant_columns`) VALUES (?, ... then `constants`)."""
    names = columns.split() + constant_columns.split()
    values = ", ".join(["?"] * len(columns.split()) + ([constants] if constants else []))
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({values})"


def _chunks(
    rows: list[tuple[object, ...]], size: int = 200_000
) -> Iterator[list[tuple[object, ...]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def load(path: Path, entries: int, seed: int) -> tuple[int, int]:
    """Migrate `path` and bulk-insert `entries` ledger entries (and the rows they imply)."""
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    per_account = entries // ACCOUNTS
    cycles = (per_account - TAIL_ENTRIES) // CYCLE_ENTRIES
    rng = random.Random(seed)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        triggers = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        ).fetchall()
        for name, _ in triggers:
            connection.execute(f"DROP TRIGGER {name}")
        connection.execute("BEGIN")
        connection.execute(
            "INSERT INTO users (id, email, password_hash, role, active, verified, created_at, "
            "password_changed_at) VALUES (1, 'bench@example.com', 'x', 'user', 1, 1, ?, ?)",
            (CREATED, CREATED),
        )
        writer = _Writer()
        accounts = [_account(writer, rng, number, cycles) for number in range(1, ACCOUNTS + 1)]
        while writer.entry_id < entries:  # pad to the exact count with deposits of account 1
            writer.post(str(accounts[0][0]), "deposit", [("cash", 0), ("external", 0)])
        connection.executemany(
            _insert(
                "paper_accounts",
                "id user_id name currency status allow_short cash held version created_at",
            ),
            accounts,
        )
        order_columns = "id account_id symbol side type time_in_force qty limit_price status hold"
        connection.executemany(
            _insert(
                "paper_orders",
                order_columns,
                "filled_qty filled_notional fees triggered accepted_seq created_at updated_at",
                f"0, 0, 0, 0, 0, '{CREATED}', '{CREATED}'",
            ),
            writer.orders,
        )
        for chunk in _chunks(writer.entries):
            entry_columns = "id account_id kind status order_id fill_id created_at"
            connection.executemany(_insert("ledger_entries", entry_columns), chunk)
        for chunk in _chunks(writer.legs):
            leg_columns = "entry_id account_id book currency amount"
            connection.executemany(_insert("ledger_legs", leg_columns), chunk)
        fill_columns = "id order_id account_id symbol side qty price notional fee realized_pnl"
        connection.executemany(
            _insert(
                "paper_fills", fill_columns + " event_seq market_ts", "created_at", f"'{CREATED}'"
            ),
            writer.fills,
        )
        connection.executemany(
            _insert(
                "paper_positions",
                "account_id qty cost_basis",
                "symbol realized_pnl updated_at",
                f"'GOOG', 0, '{CREATED}'",
            ),
            [(account[0], 10 * UNIT, 1000 * UNIT) for account in accounts],
        )
        connection.executemany(
            _insert(
                "position_lots", "account_id fill_id qty price", "symbol market_ts", "'GOOG', 1"
            ),
            [(row[0], f"pos{n}", 10 * UNIT, 100 * UNIT) for n, row in enumerate(accounts, 1)],
        )
        connection.execute(
            "INSERT INTO market_clock (symbol, seq, ts, mode, last_price, updated_at) "
            f"VALUES ('GOOG', 1, 1, 'live', {105 * UNIT}, '{CREATED}')"
        )
        for _, sql in triggers:
            connection.execute(sql)
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
        return len(writer.entries), len(writer.legs)
    finally:
        connection.close()


async def _timed(
    database: Database, rounds: int
) -> tuple[list[float], list[float], list[float], LedgerReport]:
    walls, cpus, references = [], [], []
    report: LedgerReport | None = None
    async with database.session() as session:
        await verify_ledger(session)  # warm the page cache and the statement cache
        for _ in range(rounds):
            started, cpu = time.perf_counter(), time.process_time()
            report = await verify_ledger(session)
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
            cpu = time.process_time()
            await session.execute(text("SELECT COUNT(*), SUM(amount) FROM ledger_legs"))
            references.append(time.process_time() - cpu)
    assert report is not None
    return walls, cpus, references, report


def measure(entries: int, rounds: int, seed: int) -> LedgerRun:
    with tempfile.TemporaryDirectory(prefix="qd-ledger-") as folder:
        path = Path(folder) / "ledger.db"
        started = time.perf_counter()
        count, legs = load(path, entries, seed)
        load_seconds = time.perf_counter() - started
        url = f"sqlite+aiosqlite:///{path}"
        database = Database(Settings(_env_file=None, database_url=url))

        async def run() -> tuple[list[float], list[float], list[float], LedgerReport]:
            try:
                return await _timed(database, rounds)
            finally:
                await database.dispose()

        walls, cpus, references, report = asyncio.run(run())
    return LedgerRun(count, legs, load_seconds, walls, cpus, references, report)
