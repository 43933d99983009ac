"""job results, skipped job status, provider fetch health

Revision ID: 72e95cdbae79
Revises: 468da7bf7ef7
Create Date: 2026-11-22 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "72e95cdbae79"
down_revision: str | None = "468da7bf7ef7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = ("queued", "running", "succeeded", "failed", "retrying")
NEW_STATUSES = (*OLD_STATUSES, "skipped")


def _statuses(values: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _set_statuses(values: tuple[str, ...]) -> None:
    # The CHECK constraint of a non-native enum: replaced, not altered.
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_job_runs_job_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_job_runs_job_status"), _statuses(values))


def upgrade() -> None:
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result", sa.JSON(), nullable=True))
    _set_statuses(NEW_STATUSES)
    with op.batch_alter_table("provider_fetches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("healthy", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("provider_fetches", schema=None) as batch_op:
        batch_op.drop_column("healthy")
    op.execute("UPDATE job_runs SET status = 'succeeded' WHERE status = 'skipped'")
    _set_statuses(OLD_STATUSES)
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_column("result")
