"""The order-placement part of the desk benchmark: `POST /accounts/{id}/orders` on a real
uvicorn server against a bare FastAPI endpoint inserting the same row.

`prepare` migrates a SQLite file, loads the demo data, sets GOOG's market clock (last price =
its stored quote, so a market buy holds cash at a known price), registers a user with an API
key and opens one paper account with nearly the largest starting cash the API takes (no buy is
ever refused), then copies the file for the reference. `placement_run` starts both servers
(one uvicorn worker each, quantdesk with rate limiting off) and loads each with market buys of
qty 1, every request with its own Idempotency-Key (loadgen's `{n}`), interleaved in rounds
(`benchmarks/_rounds.py`).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import func, select

from benchmarks._rounds import LoadShape, Side, interleave
from benchmarks._uvicorn import Server, base_env, cpu_seconds, running
from benchmarks.loadgen import Target, fetch_sync
from quantdesk import migrate
from quantdesk.access.principal import Principal
from quantdesk.access.scopes import ROLE_SCOPES, Role
from quantdesk.auth.api_keys import api_key_service
from quantdesk.auth.schemas import ApiKeyCreate
from quantdesk.auth.service import ClientInfo, auth_service
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.marketdata.demo import load_demo
from quantdesk.marketdata.quote_service import quote_service
from quantdesk.models.portfolio import (
    ClockMode,
    EntryKind,
    LedgerEntry,
    MarketClock,
    PaperOrder,
)
from quantdesk.portfolio.account_schemas import AccountCreate
from quantdesk.portfolio.accounts import account_service
from quantdesk.portfolio.verify import LedgerReport, verify_ledger

SYMBOL = "GOOG"
ROLE = Role.USER  # has execute:trades
STARTING_CASH = Decimal("9000000000.00")  # the API takes < 10,000,000,000
ORDER = {"symbol": SYMBOL, "side": "buy", "type": "market", "qty": "1", "time_in_force": "day"}
ORDER_BODY = json.dumps(ORDER, separators=(",", ":")).encode()
READY_PATH = "/health/ready"
BARE_READY_PATH = "/ready"
QUANTDESK_DB = "orders.db"
BARE_DB = "bare-orders.db"

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class OrdersDb:
    url: str
    env: dict[str, str]  # for `uvicorn quantdesk.main:app`
    bare_env: dict[str, str]  # for `uvicorn benchmarks._bare_orders_app:app`
    api_key: str
    account_id: str
    last_price: Decimal

    @property
    def orders_path(self) -> str:
        return f"/api/v1/accounts/{self.account_id}/orders"


def prepare(tmp: Path) -> OrdersDb:
    """The quantdesk database and its copy for the reference, in `tmp`."""
    url = f"sqlite+aiosqlite:///{tmp / QUANTDESK_DB}"
    secret_key = secrets.token_urlsafe(48)
    migrate.upgrade(url)
    settings = Settings(_env_file=None, database_url=url, secret_key=SecretStr(secret_key))
    api_key, account_id, last_price = asyncio.run(_load(settings))
    with sqlite3.connect(tmp / QUANTDESK_DB) as connection:  # everything in the main file
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(tmp / QUANTDESK_DB, tmp / BARE_DB)
    env = {
        **base_env(),
        "QUANTDESK_ENVIRONMENT": "development",
        "QUANTDESK_DATABASE_URL": url,
        "QUANTDESK_SECRET_KEY": secret_key,
        "QUANTDESK_LOG_LEVEL": "WARNING",
        "QUANTDESK_MAIL_DIR": str(tmp / "mail"),
        "QUANTDESK_RATE_LIMIT_ENABLED": "false",
    }
    bare_env = {
        **base_env(),
        "QUANTDESK_BENCH_ORDERS_DB": str(tmp / BARE_DB),
        "QUANTDESK_BENCH_ORDERS_PRICE": str(last_price),
    }
    return OrdersDb(url, env, bare_env, api_key, account_id, last_price)


async def _load(settings: Settings) -> tuple[str, str, Decimal]:
    db = Database(settings)
    try:
        async with db.session() as session:
            await load_demo(session)
        async with db.session() as session:
            _, quote = await quote_service.get(session, SYMBOL)
            last_price = Decimal(repr(quote.price))
            session.add(
                MarketClock(
                    symbol=SYMBOL,
                    seq=1,
                    ts=int(quote.as_of.timestamp()),
                    mode=ClockMode.LIVE,
                    last_price=last_price,
                    prev_close=last_price,
                    last_date=quote.as_of.date(),
                )
            )
        async with db.session() as session:
            user = await auth_service.register(
                session,
                email="bench-orders@example.com",
                password="Qd-" + secrets.token_urlsafe(24),
                role=ROLE,
                client=ClientInfo("127.0.0.1", "bench_desk"),
            )
            principal = Principal(
                user_id=user.id, role=ROLE, scopes=ROLE_SCOPES[ROLE], client_ip="127.0.0.1"
            )
            _, secret = await api_key_service.create(
                session, settings, principal, ApiKeyCreate(name="bench_desk")
            )
            account = await account_service.create(
                session, user.id, AccountCreate(name="bench", starting_cash=STARTING_CASH)
            )
        return secret, account.id, last_price
    finally:
        await db.dispose()


@dataclass
class Level:
    """Both servers loaded at one concurrency (`connections` keep-alive clients)."""

    connections: int
    quantdesk: Side
    bare: Side


@dataclass
class PlacementRun:
    prepared: OrdersDb
    levels: list[Level]
    orders_stored: int  # paper_orders rows in quantdesk's database after the run
    holds_stored: int  # hold entries on its ledger
    ledger: LedgerReport  # `ledger verify` over quantdesk's database after the run

    @staticmethod
    def all_created(side: Side) -> bool:
        return set(side.statuses()) == {201} and not side.errors()

    def sides(self) -> list[Side]:
        return [side for level in self.levels for side in (level.quantdesk, level.bare)]

    def peak(self, pick: Callable[[Level], Side]) -> tuple[Level, Side]:
        """The level where `pick`'s server reached its best requests/s, and that side."""
        level = max(self.levels, key=lambda level: pick(level).best_rps())
        return level, pick(level)

    @property
    def answered_created(self) -> int:
        """quantdesk's 201 answers: the start-up probe, the warm-ups and the rounds."""
        answered = 1
        for level in self.levels:
            side = level.quantdesk
            answered += side.warmup.statuses.get(201, 0) if side.warmup else 0
            answered += side.statuses().get(201, 0)
        return answered

    @property
    def consistent(self) -> bool:
        """One stored order and one hold entry per 201, and a clean `ledger verify`."""
        created = self.answered_created
        return self.orders_stored == created == self.holds_stored and self.ledger.ok


def _target(server: Server, prepared: OrdersDb, api_key: str | None) -> Target:
    headers = {"Content-Type": "application/json", "Idempotency-Key": "bench-{n}"}
    if api_key is not None:
        headers["X-API-Key"] = api_key
    items = tuple(headers.items())
    return Target("127.0.0.1", server.port, prepared.orders_path, items, "POST", ORDER_BODY)


def _check(name: str, target: Target) -> None:
    answer = fetch_sync(target)
    if answer.status != 201:
        raise RuntimeError(f"{name} answered {answer.status}: {answer.body[:500]!r}")


@contextmanager
def _servers(tmp: Path, prepared: OrdersDb) -> Iterator[tuple[Server, Server]]:
    with ExitStack() as stack:
        a_server = Server("A", "quantdesk.main:app", prepared.env, tmp, tmp / "orders-a.log")
        b_server = Server(
            "B", "benchmarks._bare_orders_app:app", prepared.bare_env, ROOT, tmp / "orders-b.log"
        )
        a = stack.enter_context(running(a_server, READY_PATH))
        b = stack.enter_context(running(b_server, BARE_READY_PATH))
        _check("A (quantdesk)", _target(a, prepared, prepared.api_key))
        _check("B (bare)", _target(b, prepared, None))
        _settle(a)  # quantdesk compiles its numba kernels in a thread after start-up
        yield a, b


def _settle(server: Server, timeout: float = 60.0) -> None:
    """Wait until the idle server spends < 5 % of a core (start-up work done)."""
    deadline = time.monotonic() + timeout
    before = cpu_seconds(server.pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_seconds(server.pid)
        if now - before < 0.025:
            return
        before = now


async def _after(url: str) -> tuple[int, int, LedgerReport]:
    settings = Settings(_env_file=None, database_url=url)
    db = Database(settings)
    try:
        async with db.session() as session:
            orders = await session.scalar(select(func.count()).select_from(PaperOrder))
            holds = await session.scalar(
                select(func.count())
                .select_from(LedgerEntry)
                .where(LedgerEntry.kind == EntryKind.HOLD)
            )
            report = await verify_ledger(session)
        return int(orders or 0), int(holds or 0), report
    finally:
        await db.dispose()


def placement_run(tmp: Path, shape: LoadShape, levels: Sequence[int]) -> PlacementRun:
    """Prepare the databases in `tmp`, load both servers at each of `levels` connections
    (`shape` gives the rounds), and read quantdesk's database back."""
    print("Order placement: preparing the database (demo data, user, account) ...", flush=True)
    prepared = prepare(tmp)
    measured: list[Level] = []
    with _servers(tmp, prepared) as (a, b):
        for connections in levels:
            at = replace(shape, connections=connections)
            level = Level(
                connections,
                Side("A quantdesk", a, _target(a, prepared, prepared.api_key)),
                Side("B bare     ", b, _target(b, prepared, None)),
            )
            print(
                f"  load: {connections} connections, {at.rounds} x {at.round_seconds:g} s "
                f"per server after a {at.warmup_seconds:g} s warm-up",
                flush=True,
            )
            interleave([level.quantdesk, level.bare], at)
            measured.append(level)
    orders, holds, report = asyncio.run(_after(prepared.url))
    return PlacementRun(prepared, measured, orders, holds, report)


def placement_notes(run: PlacementRun) -> list[str]:
    def rounds(side: Side) -> str:
        return ", ".join(
            f"{r.load.rps:,.0f}/s p99 {r.load.p99_ms:.1f} ms (server CPU {r.server_cpu:.0%})"
            for r in side.rounds
        )

    def cpu_per_request(side: Side) -> float:
        return sum(r.server_cpu_s for r in side.rounds) / max(side.requests(), 1) * 1e3

    notes = []
    for level in run.levels:
        a, b = level.quantdesk, level.bare
        notes.append(
            f"Order placement at {level.connections} connections, rounds: quantdesk "
            f"{rounds(a)}; bare {rounds(b)}. Server CPU per request: quantdesk "
            f"{cpu_per_request(a):.2f} ms, bare {cpu_per_request(b):.2f} ms."
        )
    notes.append(
        f"Order placement afterwards: {run.orders_stored:,} orders and {run.holds_stored:,} "
        f"hold entries stored for {run.answered_created:,} answers 201 (probe, warm-ups, "
        f"rounds); `ledger verify` {'clean' if run.ledger.ok else 'FOUND VIOLATIONS'}."
    )
    return notes


ORDERS_METHOD = (
    "Order placement: a migrated SQLite file (WAL) with the demo data, GOOG's market clock "
    "set to its stored quote, one user (role `user`, API key) and one paper account holding "
    "9,000,000,000.00 so no buy is refused. Two uvicorn servers, one worker each, same "
    "flags: A is quantdesk (`quantdesk.main:app`, rate limiting off by settings, everything "
    "else as served), B `benchmarks/_bare_orders_app.py`, a bare FastAPI endpoint on a copy "
    "of the same file that parses the same JSON body with a plain Pydantic model and inserts "
    "the same `paper_orders` row with the SQLAlchemy ORM in one transaction (quantdesk's "
    "engine settings and pragmas), answering 201 with the order. Every request is `POST "
    '/api/v1/accounts/{{id}}/orders` with `{{"symbol": "GOOG", "side": "buy", '
    '"type": "market", "qty": "1", "time_in_force": "day"}}` and its own '
    "`Idempotency-Key` (loadgen's `{{n}}` placeholder), so each one places a new order: on A "
    "the account lock, idempotency lookup, pre-trade checks, the order row, the hold's ledger "
    "entry and legs, the audit record and the order event; on B one INSERT. "
    "`benchmarks/loadgen.py` drives both at each of {levels} keep-alive connections (closed "
    "loop): at each level a {shape.warmup_seconds:g} s warm-up then {shape.rounds} rounds of "
    "{shape.round_seconds:g} s per server, A and B interleaved; a level's figures are the "
    "best round of each. The bar compares each server's peak sustained throughput, the best "
    "level of each, since a server's peak is what it sustains under load. A writes "
    "placements with group commit (portfolio/order_batch.py): the placements that arrive "
    "while one batch is written are placed together in the next transaction with one "
    "statement per step (about 12 round trips per batch instead of 14 per order), so its "
    "cost per request falls as concurrency rises; B's bare inserts instead contend for "
    "SQLite's write lock in its busy handler. At 4 connections a batch holds at most 4 "
    "placements and A stays well under the bar (see the per-level rows). Afterwards the "
    "stored orders and hold entries are counted against the 201 answers and `ledger verify` "
    "runs on A's database."
)
