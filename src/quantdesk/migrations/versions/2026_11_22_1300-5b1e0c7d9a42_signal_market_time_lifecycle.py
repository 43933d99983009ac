"""signals live a number of bars: lifetime_bars, bars_held, settled_return

Revision ID: 5b1e0c7d9a42
Revises: 72e95cdbae79
Create Date: 2026-11-22 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b1e0c7d9a42"
down_revision: str | None = "72e95cdbae79"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lifetime_bars", sa.Integer(), server_default="10", nullable=False)
        )
        batch_op.add_column(sa.Column("bars_held", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("settled_return", sa.Double(), nullable=True))
    # Expired by the wall clock with no bar to settle on (close_price null): active again,
    # for `evaluate` to judge in market time.
    op.execute(
        "UPDATE signals SET status = 'active', closed_at = NULL "
        "WHERE status = 'expired' AND close_price IS NULL"
    )
    # Signals settled before: their return follows from entry and close_price.
    op.execute(
        "UPDATE signals SET settled_return = CASE WHEN direction = 'LONG' "
        "THEN close_price / entry - 1 ELSE 1 - close_price / entry END "
        "WHERE status <> 'active' AND close_price IS NOT NULL AND entry <> 0"
    )


def downgrade() -> None:
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_column("settled_return")
        batch_op.drop_column("bars_held")
        batch_op.drop_column("lifetime_bars")
