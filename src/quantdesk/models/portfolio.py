"""Paper trading: accounts, orders, fills, the double-entry ledger, positions and the per-symbol
market clock (docs/paper-trading.md).

Money, prices and quantities are `Decimal` in Python and BIGINT units of 1e-8 in the database
(`Fixed8`): SQLite's NUMERIC is a float, and the ledger's balance check sums amounts in SQL, so
it has to be exact on both databases. The balance rule itself (legs of a posted entry sum to
zero per currency) is a trigger written in the migration, not only Python.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column

from quantdesk.models.base import Base, UTCDateTime, str_enum, utcnow

SCALE = 8
_UNIT = Decimal(1).scaleb(-SCALE)  # 0.00000001
# SQLite's INTEGER PRIMARY KEY is the rowid (auto-increment); PostgreSQL gets a BIGINT identity.
RowId = BigInteger().with_variant(Integer(), "sqlite")


def fixed8(value: Decimal) -> Decimal:
    """`value` rounded to the stored precision (8 decimals, half to even)."""
    return value.quantize(_UNIT, rounding=ROUND_HALF_EVEN)


class Fixed8(TypeDecorator[Decimal]):
    """A Decimal stored exactly as a BIGINT count of 1e-8 units (range about ±92 billion)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"Fixed8 column given {type(value).__name__}; money is Decimal")
        return int(fixed8(value).scaleb(SCALE))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-SCALE)


class AccountStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class OrderSide(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class OrderStatus(StrEnum):
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    REPLACED = "replaced"


OPEN_ORDER_STATUSES = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class EntryKind(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    HOLD = "hold"
    RELEASE = "release"
    FILL = "fill"
    FEE = "fee"


class EntryStatus(StrEnum):
    DRAFT = "draft"
    POSTED = "posted"


class ClockMode(StrEnum):
    LIVE = "live"
    REPLAY = "replay"


class PaperAccount(Base):
    """A paper account. `cash` (free) and `held` (for open buy orders) mirror the sums of the
    account's `cash` and `held` ledger books; the CHECKs make the database refuse an overdraw.
    `version` is bumped as the first write of every placement so concurrent placements on one
    account queue behind each other (a row lock on PostgreSQL, the write lock on SQLite)."""

    __tablename__ = "paper_accounts"
    __table_args__ = (
        UniqueConstraint("user_id", "name"),
        CheckConstraint("cash >= 0", name="cash_not_negative"),
        CheckConstraint("held >= 0", name="held_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[AccountStatus] = mapped_column(
        str_enum(AccountStatus, "account_status"), default=AccountStatus.OPEN
    )
    allow_short: Mapped[bool] = mapped_column(Boolean, default=False)
    fill_model: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cash: Mapped[Decimal] = mapped_column(Fixed8, default=Decimal(0))
    held: Mapped[Decimal] = mapped_column(Fixed8, default=Decimal(0))
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PaperOrder(Base):
    """One order and its lifecycle. `accepted_seq` is the symbol's market-clock sequence at
    acceptance: the order is first eligible on an event with a higher sequence (no same-bar
    fills). `hold` is the cash still held for it."""

    __tablename__ = "paper_orders"
    __table_args__ = (
        # Named: the convention's uq_<table>_<first column> would give both the same name.
        UniqueConstraint("account_id", "idempotency_key", name="uq_paper_orders_idempotency_key"),
        UniqueConstraint("account_id", "client_order_id", name="uq_paper_orders_client_order_id"),
        Index("ix_paper_orders_symbol_status", "symbol", "status"),
        Index("ix_paper_orders_account_created", "account_id", "created_at"),
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("filled_qty >= 0 AND filled_qty <= qty", name="filled_within_qty"),
        CheckConstraint("hold >= 0", name="hold_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("paper_accounts.id", ondelete="CASCADE"))
    client_order_id: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[OrderSide] = mapped_column(str_enum(OrderSide, "order_side"))
    type: Mapped[OrderType] = mapped_column(str_enum(OrderType, "order_type"))
    time_in_force: Mapped[TimeInForce] = mapped_column(str_enum(TimeInForce, "time_in_force"))
    qty: Mapped[Decimal] = mapped_column(Fixed8)
    limit_price: Mapped[Decimal | None] = mapped_column(Fixed8)
    stop_price: Mapped[Decimal | None] = mapped_column(Fixed8)
    status: Mapped[OrderStatus] = mapped_column(
        str_enum(OrderStatus, "order_status"), default=OrderStatus.NEW
    )
    filled_qty: Mapped[Decimal] = mapped_column(Fixed8, default=Decimal(0))
    filled_notional: Mapped[Decimal] = mapped_column(Fixed8, default=Decimal(0))
    filled_avg_price: Mapped[Decimal | None] = mapped_column(Fixed8)
    fees: Mapped[Decimal] = mapped_column(Fixed8, default=Decimal(0))
    hold: Mapped[Decimal] = mapped_column(Fixed8, default=Decimal(0))
    triggered: Mapped[bool] = mapped_column(Boolean, default=False)
    session_date: Mapped[date | None] = mapped_column(Date)
    accepted_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    accepted_market_ts: Mapped[int | None] = mapped_column(BigInteger)
    reject_reason: Mapped[str | None] = mapped_column(String(64))
    reason_detail: Mapped[str | None] = mapped_column(String(500))
    replaces: Mapped[str | None] = mapped_column(String(32))
    replaced_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    filled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PaperFill(Base):
    """One execution. UNIQUE (order_id, event_seq): a re-delivered market event changes
    nothing, because an order fills at most once per event of its symbol."""

    __tablename__ = "paper_fills"
    __table_args__ = (
        UniqueConstraint("order_id", "event_seq"),
        # Covering for `ledger verify` (Σ signed fill qty per position).
        Index("ix_paper_fills_account_symbol_qty", "account_id", "symbol", "side", "qty"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("paper_orders.id", ondelete="CASCADE"))
    account_id: Mapped[str] = mapped_column(ForeignKey("paper_accounts.id", ondelete="CASCADE"))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[OrderSide] = mapped_column(str_enum(OrderSide, "fill_side"))
    qty: Mapped[Decimal] = mapped_column(Fixed8)
    price: Mapped[Decimal] = mapped_column(Fixed8)
    notional: Mapped[Decimal] = mapped_column(Fixed8)
    fee: Mapped[Decimal] = mapped_column(Fixed8)
    realized_pnl: Mapped[Decimal] = mapped_column(Fixed8, default=Decimal(0))
    event_seq: Mapped[int] = mapped_column(BigInteger)
    market_ts: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerEntry(Base):
    """A journal entry. Legs are inserted while it is `draft`; the database refuses to mark it
    `posted` unless its legs sum to zero per currency, and refuses any change to the legs of a
    posted entry (triggers in the migration)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_entries_account_id", "account_id", "id"),
        Index("ix_ledger_entries_status", "status"),  # finds drafts left behind at once
    )

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("paper_accounts.id", ondelete="CASCADE"))
    kind: Mapped[EntryKind] = mapped_column(str_enum(EntryKind, "entry_kind"))
    status: Mapped[EntryStatus] = mapped_column(
        str_enum(EntryStatus, "entry_status"), default=EntryStatus.DRAFT
    )
    order_id: Mapped[str | None] = mapped_column(String(32))
    fill_id: Mapped[str | None] = mapped_column(String(32))
    memo: Mapped[str | None] = mapped_column(String(200))
    market_ts: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerLeg(Base):
    """One posting: `amount` (signed) to one `book` of one account. Books: `cash`, `held`,
    `external`, `securities:<SYMBOL>`, `fees`, `realized_pnl`."""

    __tablename__ = "ledger_legs"
    # Covering indexes: `ledger verify` sums legs per entry and per (account, book) from the
    # index alone (no table lookup per leg), about 3x faster on a million entries.
    __table_args__ = (
        Index("ix_ledger_legs_account_book_amount", "account_id", "book", "amount"),
        Index("ix_ledger_legs_entry_currency_amount", "entry_id", "currency", "amount"),
    )

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id", ondelete="CASCADE"))
    account_id: Mapped[str] = mapped_column(String(32))
    book: Mapped[str] = mapped_column(String(48))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Fixed8)


class PaperPosition(Base):
    """An account's net position in a symbol (short: negative qty). `cost_basis` is the cost of
    the open FIFO lots; `realized_pnl` accumulates as lots close."""

    __tablename__ = "paper_positions"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("paper_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    qty: Mapped[Decimal] = mapped_column(Fixed8, default=Decimal(0))
    cost_basis: Mapped[Decimal] = mapped_column(Fixed8, default=Decimal(0))
    realized_pnl: Mapped[Decimal] = mapped_column(Fixed8, default=Decimal(0))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PositionLot(Base):
    """An open FIFO lot: what is left of one fill that opened (part of) a position."""

    __tablename__ = "position_lots"
    __table_args__ = (Index("ix_position_lots_account_symbol", "account_id", "symbol", "id"),)

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("paper_accounts.id", ondelete="CASCADE"))
    symbol: Mapped[str] = mapped_column(String(32))
    fill_id: Mapped[str] = mapped_column(String(32))
    qty: Mapped[Decimal] = mapped_column(Fixed8)
    price: Mapped[Decimal] = mapped_column(Fixed8)
    market_ts: Mapped[int] = mapped_column(BigInteger)


class MarketClock(Base):
    """A symbol's market time: the latest market event the desk processed for it. `seq` counts
    processed events; orders remember it at acceptance. In `replay` mode only the replay's
    events move the clock."""

    __tablename__ = "market_clock"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    ts: Mapped[int] = mapped_column(BigInteger, default=-1)
    mode: Mapped[ClockMode] = mapped_column(
        str_enum(ClockMode, "clock_mode"), default=ClockMode.LIVE
    )
    replay_id: Mapped[str | None] = mapped_column(String(32))
    last_price: Mapped[Decimal | None] = mapped_column(Fixed8)
    prev_close: Mapped[Decimal | None] = mapped_column(Fixed8)
    last_date: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class EquityPoint(Base):
    """The account's equity at a market time: one point per market day (the day's last event,
    `kind` day) and one per fill."""

    __tablename__ = "equity_points"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("paper_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # "day" | "fill"
    equity: Mapped[Decimal] = mapped_column(Fixed8)
    cash: Mapped[Decimal] = mapped_column(Fixed8)
