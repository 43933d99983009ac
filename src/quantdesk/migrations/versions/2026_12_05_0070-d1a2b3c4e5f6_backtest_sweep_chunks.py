"""backtest sweep chunks: a sweep's grid split into chunks (one row each, applied once) and
the run's chunk counter (chunks_total, chunks_done)

Revision ID: d1a2b3c4e5f6
Revises: c8f9b6a05e37
Create Date: 2026-12-05 00:70:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import quantdesk.models.base

revision: str = "d1a2b3c4e5f6"
down_revision: str | None = "c8f9b6a05e37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "backtest_sweep_chunks",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("chunk_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=True),
        sa.Column("applied_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["backtest_runs.id"],
            name=op.f("fk_backtest_sweep_chunks_run_id_backtest_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "chunk_no", name=op.f("pk_backtest_sweep_chunks")),
    )
    with op.batch_alter_table("backtest_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chunks_total", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("chunks_done", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("backtest_runs", schema=None) as batch_op:
        batch_op.drop_column("chunks_done")
        batch_op.drop_column("chunks_total")
    op.drop_table("backtest_sweep_chunks")
