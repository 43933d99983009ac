"""exports: export jobs and their files

Revision ID: 7a3c9e15f2b6
Revises: 5e8b1d04c7a2
Create Date: 2026-12-05 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import quantdesk.models.base

revision: str = "7a3c9e15f2b6"
down_revision: str | None = "5e8b1d04c7a2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "completed",
                "failed",
                name="export_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("progress", sa.Double(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=True),
        sa.Column("bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("columns", sa.JSON(), nullable=True),
        sa.Column("as_of", quantdesk.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("storage_key", sa.String(length=256), nullable=True),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.Column("created_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_exports_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exports")),
    )
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exports_created_at"), ["created_at"], unique=False)
        batch_op.create_index("ix_exports_user_created", ["user_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.drop_index("ix_exports_user_created")
        batch_op.drop_index(batch_op.f("ix_exports_created_at"))
    op.drop_table("exports")
