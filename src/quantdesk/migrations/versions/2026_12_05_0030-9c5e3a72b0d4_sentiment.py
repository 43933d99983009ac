"""sentiment votes and scores

Revision ID: 9c5e3a72b0d4
Revises: 8b4d2f61a9c3
Create Date: 2026-12-05 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import quantdesk.models.base

revision: str = "9c5e3a72b0d4"
down_revision: str | None = "8b4d2f61a9c3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sentiment_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "vote",
            sa.Enum(
                "bullish",
                "bearish",
                "neutral",
                name="sentiment_vote_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", quantdesk.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sentiment_votes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sentiment_votes")),
        sa.UniqueConstraint("user_id", "symbol", "day", name="uq_sentiment_votes_user_symbol_day"),
    )
    op.create_index(
        "ix_sentiment_votes_symbol_day", "sentiment_votes", ["symbol", "day"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_sentiment_votes_symbol_day", table_name="sentiment_votes")
    op.drop_table("sentiment_votes")
