"""paper trading desk: accounts, orders, fills, ledger, positions, clock, watchlists, price alerts

Revision ID: 9d41c2e7a5b3
Revises: 5b1e0c7d9a42
Create Date: 2026-12-04 20:18:10.042668
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import quantdesk.models.base

# The ledger's balance rule, enforced by the database whoever writes: legs are inserted while
# their entry is `draft`; marking it `posted` fails unless they sum to zero per currency; a
# posted entry and its legs never change again. Written for both databases (the same rule).
_SQLITE_TRIGGERS = (
    """CREATE TRIGGER ledger_entry_balanced BEFORE UPDATE ON ledger_entries
    WHEN OLD.status = 'draft' AND NEW.status = 'posted' AND EXISTS (
        SELECT 1 FROM ledger_legs WHERE entry_id = NEW.id GROUP BY currency HAVING SUM(amount) <> 0)
    BEGIN SELECT RAISE(ABORT, 'ledger entry legs do not balance'); END""",
    """CREATE TRIGGER ledger_entry_immutable BEFORE UPDATE ON ledger_entries
    WHEN OLD.status = 'posted'
    BEGIN SELECT RAISE(ABORT, 'a posted ledger entry cannot change'); END""",
    """CREATE TRIGGER ledger_leg_insert_posted BEFORE INSERT ON ledger_legs
    WHEN (SELECT status FROM ledger_entries WHERE id = NEW.entry_id) = 'posted'
    BEGIN SELECT RAISE(ABORT, 'the legs of a posted ledger entry cannot change'); END""",
    """CREATE TRIGGER ledger_leg_update_posted BEFORE UPDATE ON ledger_legs
    WHEN (SELECT status FROM ledger_entries WHERE id = OLD.entry_id) = 'posted'
    BEGIN SELECT RAISE(ABORT, 'the legs of a posted ledger entry cannot change'); END""",
)
_POSTGRES_TRIGGERS = (
    """CREATE FUNCTION ledger_entry_check() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.status = 'posted' THEN
            RAISE EXCEPTION 'a posted ledger entry cannot change' USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.status = 'posted' AND EXISTS (
            SELECT 1 FROM ledger_legs WHERE entry_id = NEW.id
            GROUP BY currency HAVING SUM(amount) <> 0) THEN
            RAISE EXCEPTION 'ledger entry legs do not balance' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER ledger_entry_balanced BEFORE UPDATE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_check()""",
    """CREATE FUNCTION ledger_leg_check() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (SELECT status FROM ledger_entries WHERE id = NEW.entry_id) = 'posted'
            OR (TG_OP = 'UPDATE' AND
                (SELECT status FROM ledger_entries WHERE id = OLD.entry_id) = 'posted') THEN
            RAISE EXCEPTION 'the legs of a posted ledger entry cannot change'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER ledger_leg_posted BEFORE INSERT OR UPDATE ON ledger_legs
    FOR EACH ROW EXECUTE FUNCTION ledger_leg_check()""",
)
_DROP = {
    "sqlite": (
        "DROP TRIGGER IF EXISTS ledger_entry_balanced",
        "DROP TRIGGER IF EXISTS ledger_entry_immutable",
        "DROP TRIGGER IF EXISTS ledger_leg_insert_posted",
        "DROP TRIGGER IF EXISTS ledger_leg_update_posted",
    ),
    "postgresql": (
        "DROP TRIGGER IF EXISTS ledger_leg_posted ON ledger_legs",
        "DROP TRIGGER IF EXISTS ledger_entry_balanced ON ledger_entries",
        "DROP FUNCTION IF EXISTS ledger_leg_check()",
        "DROP FUNCTION IF EXISTS ledger_entry_check()",
    ),
}

revision: str = "9d41c2e7a5b3"
down_revision: str | None = "5b1e0c7d9a42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "market_clock",
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column(
            "mode",
            sa.Enum(
                "live",
                "replay",
                name="clock_mode",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("replay_id", sa.String(length=32), nullable=True),
        sa.Column("last_price", sa.BigInteger(), nullable=True),
        sa.Column("prev_close", sa.BigInteger(), nullable=True),
        sa.Column("last_date", sa.Date(), nullable=True),
        sa.Column("updated_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("symbol", name=op.f("pk_market_clock")),
    )
    op.create_table(
        "paper_accounts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "closed",
                name="account_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("allow_short", sa.Boolean(), nullable=False),
        sa.Column("fill_model", sa.JSON(), nullable=True),
        sa.Column("cash", sa.BigInteger(), nullable=False),
        sa.Column("held", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("cash >= 0", name=op.f("ck_paper_accounts_cash_not_negative")),
        sa.CheckConstraint("held >= 0", name=op.f("ck_paper_accounts_held_not_negative")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_paper_accounts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_accounts")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_paper_accounts_user_id")),
    )
    with op.batch_alter_table("paper_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paper_accounts_user_id"), ["user_id"], unique=False)

    op.create_table(
        "price_alerts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column(
            "condition",
            sa.Enum(
                "above",
                "below",
                "crossing_up",
                "crossing_down",
                name="alert_condition",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("level", sa.BigInteger(), nullable=False),
        sa.Column(
            "frequency",
            sa.Enum(
                "once",
                "every_bar",
                name="alert_frequency",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "triggered",
                "expired",
                name="price_alert_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("last_price", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("trigger_count", sa.BigInteger(), nullable=False),
        sa.Column(
            "last_triggered_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("created_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_price_alerts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_alerts")),
    )
    with op.batch_alter_table("price_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_price_alerts_symbol_status", ["symbol", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_price_alerts_user_id"), ["user_id"], unique=False)

    op.create_table(
        "watchlists",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_watchlists_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlists")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_watchlists_user_id")),
    )
    with op.batch_alter_table("watchlists", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_watchlists_user_id"), ["user_id"], unique=False)

    op.create_table(
        "equity_points",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("equity", sa.BigInteger(), nullable=False),
        sa.Column("cash", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["paper_accounts.id"],
            name=op.f("fk_equity_points_account_id_paper_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "ts", "kind", name=op.f("pk_equity_points")),
    )
    op.create_table(
        "ledger_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "deposit",
                "withdrawal",
                "hold",
                "release",
                "fill",
                "fee",
                name="entry_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "posted",
                name="entry_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("order_id", sa.String(length=32), nullable=True),
        sa.Column("fill_id", sa.String(length=32), nullable=True),
        sa.Column("memo", sa.String(length=200), nullable=True),
        sa.Column("market_ts", sa.BigInteger(), nullable=True),
        sa.Column("created_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["paper_accounts.id"],
            name=op.f("fk_ledger_entries_account_id_paper_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_entries_account_id", ["account_id", "id"], unique=False)

    op.create_table(
        "paper_orders",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("client_order_id", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column(
            "side",
            sa.Enum(
                "buy",
                "sell",
                name="order_side",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "type",
            sa.Enum(
                "market",
                "limit",
                "stop",
                "stop_limit",
                name="order_type",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "time_in_force",
            sa.Enum(
                "day",
                "gtc",
                "ioc",
                "fok",
                name="time_in_force",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("limit_price", sa.BigInteger(), nullable=True),
        sa.Column("stop_price", sa.BigInteger(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "new",
                "partially_filled",
                "filled",
                "canceled",
                "expired",
                "rejected",
                "replaced",
                name="order_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("filled_qty", sa.BigInteger(), nullable=False),
        sa.Column("filled_notional", sa.BigInteger(), nullable=False),
        sa.Column("filled_avg_price", sa.BigInteger(), nullable=True),
        sa.Column("fees", sa.BigInteger(), nullable=False),
        sa.Column("hold", sa.BigInteger(), nullable=False),
        sa.Column("triggered", sa.Boolean(), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=True),
        sa.Column("accepted_seq", sa.BigInteger(), nullable=False),
        sa.Column("accepted_market_ts", sa.BigInteger(), nullable=True),
        sa.Column("reject_reason", sa.String(length=64), nullable=True),
        sa.Column("reason_detail", sa.String(length=500), nullable=True),
        sa.Column("replaces", sa.String(length=32), nullable=True),
        sa.Column("replaced_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("filled_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("canceled_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expired_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rejected_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("replaced_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "filled_qty >= 0 AND filled_qty <= qty", name=op.f("ck_paper_orders_filled_within_qty")
        ),
        sa.CheckConstraint("hold >= 0", name=op.f("ck_paper_orders_hold_not_negative")),
        sa.CheckConstraint("qty > 0", name=op.f("ck_paper_orders_qty_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["paper_accounts.id"],
            name=op.f("fk_paper_orders_account_id_paper_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_orders")),
        sa.UniqueConstraint(
            "account_id", "client_order_id", name=op.f("uq_paper_orders_client_order_id")
        ),
        sa.UniqueConstraint(
            "account_id", "idempotency_key", name=op.f("uq_paper_orders_idempotency_key")
        ),
    )
    with op.batch_alter_table("paper_orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_paper_orders_account_created", ["account_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_paper_orders_symbol_status", ["symbol", "status"], unique=False)

    op.create_table(
        "paper_positions",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("cost_basis", sa.BigInteger(), nullable=False),
        sa.Column("realized_pnl", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["paper_accounts.id"],
            name=op.f("fk_paper_positions_account_id_paper_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "symbol", name=op.f("pk_paper_positions")),
    )
    op.create_table(
        "position_lots",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("fill_id", sa.String(length=32), nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("market_ts", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["paper_accounts.id"],
            name=op.f("fk_position_lots_account_id_paper_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_position_lots")),
    )
    with op.batch_alter_table("position_lots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_position_lots_account_symbol", ["account_id", "symbol", "id"], unique=False
        )

    op.create_table(
        "price_alert_triggers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("alert_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("bar_ts", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column(
            "condition",
            sa.Enum(
                "above",
                "below",
                "crossing_up",
                "crossing_down",
                name="trigger_condition",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("level", sa.BigInteger(), nullable=False),
        sa.Column("triggered_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["price_alerts.id"],
            name=op.f("fk_price_alert_triggers_alert_id_price_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_price_alert_triggers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_alert_triggers")),
        sa.UniqueConstraint("alert_id", "bar_ts", name=op.f("uq_price_alert_triggers_alert_id")),
    )
    with op.batch_alter_table("price_alert_triggers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_price_alert_triggers_alert_id"), ["alert_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_price_alert_triggers_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "watchlist_items",
        sa.Column("watchlist_id", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("added_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["watchlist_id"],
            ["watchlists.id"],
            name=op.f("fk_watchlist_items_watchlist_id_watchlists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("watchlist_id", "symbol", name=op.f("pk_watchlist_items")),
    )
    op.create_table(
        "ledger_legs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("book", sa.String(length=48), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_ledger_legs_entry_id_ledger_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_legs")),
    )
    with op.batch_alter_table("ledger_legs", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_legs_account_book", ["account_id", "book"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_legs_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "paper_fills",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column(
            "side",
            sa.Enum(
                "buy",
                "sell",
                name="fill_side",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("notional", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("realized_pnl", sa.BigInteger(), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("market_ts", sa.BigInteger(), nullable=False),
        sa.Column("created_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["paper_accounts.id"],
            name=op.f("fk_paper_fills_account_id_paper_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["paper_orders.id"],
            name=op.f("fk_paper_fills_order_id_paper_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_fills")),
        sa.UniqueConstraint("order_id", "event_seq", name=op.f("uq_paper_fills_order_id")),
    )
    with op.batch_alter_table("paper_fills", schema=None) as batch_op:
        batch_op.create_index(
            "ix_paper_fills_account_symbol", ["account_id", "symbol"], unique=False
        )

    triggers = (
        _POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS
    )
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    for statement in _DROP.get(op.get_bind().dialect.name, ()):
        op.execute(statement)
    with op.batch_alter_table("paper_fills", schema=None) as batch_op:
        batch_op.drop_index("ix_paper_fills_account_symbol")

    op.drop_table("paper_fills")
    with op.batch_alter_table("ledger_legs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_legs_entry_id"))
        batch_op.drop_index("ix_ledger_legs_account_book")

    op.drop_table("ledger_legs")
    op.drop_table("watchlist_items")
    with op.batch_alter_table("price_alert_triggers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_price_alert_triggers_user_id"))
        batch_op.drop_index(batch_op.f("ix_price_alert_triggers_alert_id"))

    op.drop_table("price_alert_triggers")
    with op.batch_alter_table("position_lots", schema=None) as batch_op:
        batch_op.drop_index("ix_position_lots_account_symbol")

    op.drop_table("position_lots")
    op.drop_table("paper_positions")
    with op.batch_alter_table("paper_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_paper_orders_symbol_status")
        batch_op.drop_index("ix_paper_orders_account_created")

    op.drop_table("paper_orders")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_account_id")

    op.drop_table("ledger_entries")
    op.drop_table("equity_points")
    with op.batch_alter_table("watchlists", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watchlists_user_id"))

    op.drop_table("watchlists")
    with op.batch_alter_table("price_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_price_alerts_user_id"))
        batch_op.drop_index("ix_price_alerts_symbol_status")

    op.drop_table("price_alerts")
    with op.batch_alter_table("paper_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_accounts_user_id"))

    op.drop_table("paper_accounts")
    op.drop_table("market_clock")
