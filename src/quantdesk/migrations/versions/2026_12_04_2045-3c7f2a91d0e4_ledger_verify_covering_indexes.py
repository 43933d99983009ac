"""ledger verify: covering indexes on ledger_legs and paper_fills, ledger_entries.status

`quantdesk ledger verify` sums legs per entry and per (account, book), and fills per
position; with the amounts in the index those sums read the index alone. The replaced
indexes are prefixes of the new ones, so every lookup they served is still served.

Revision ID: 3c7f2a91d0e4
Revises: 9d41c2e7a5b3
Create Date: 2026-12-04 20:45:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3c7f2a91d0e4"
down_revision: str | None = "9d41c2e7a5b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_legs", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_legs_account_book")
        batch_op.drop_index(batch_op.f("ix_ledger_legs_entry_id"))
        batch_op.create_index(
            "ix_ledger_legs_account_book_amount", ["account_id", "book", "amount"], unique=False
        )
        batch_op.create_index(
            "ix_ledger_legs_entry_currency_amount", ["entry_id", "currency", "amount"], unique=False
        )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_entries_status", ["status"], unique=False)
    with op.batch_alter_table("paper_fills", schema=None) as batch_op:
        batch_op.drop_index("ix_paper_fills_account_symbol")
        batch_op.create_index(
            "ix_paper_fills_account_symbol_qty",
            ["account_id", "symbol", "side", "qty"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("paper_fills", schema=None) as batch_op:
        batch_op.drop_index("ix_paper_fills_account_symbol_qty")
        batch_op.create_index(
            "ix_paper_fills_account_symbol", ["account_id", "symbol"], unique=False
        )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_status")
    with op.batch_alter_table("ledger_legs", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_legs_entry_currency_amount")
        batch_op.drop_index("ix_ledger_legs_account_book_amount")
        batch_op.create_index(batch_op.f("ix_ledger_legs_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index("ix_ledger_legs_account_book", ["account_id", "book"], unique=False)
