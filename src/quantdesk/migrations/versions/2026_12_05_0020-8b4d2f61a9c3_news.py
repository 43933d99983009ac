"""news items and their symbols

Revision ID: 8b4d2f61a9c3
Revises: 7a3c9e15f2b6
Create Date: 2026-12-05 00:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import quantdesk.models.base

revision: str = "8b4d2f61a9c3"
down_revision: str | None = "7a3c9e15f2b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    utc = quantdesk.models.base.UTCDateTime(timezone=True)
    op.create_table(
        "news_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("summary", sa.String(length=2000), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("url_key", sa.String(length=64), nullable=True),
        sa.Column("title_key", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=500), nullable=True),
        sa.Column("published_at", utc, nullable=False),
        sa.Column("fetched_at", utc, nullable=False),
        sa.Column("symbols", sa.JSON(), nullable=False),
        sa.Column("sentiment_score", sa.Double(), nullable=True),
        sa.Column("sentiment_label", sa.String(length=16), nullable=True),
        sa.Column("sentiment_model", sa.String(length=64), nullable=True),
        sa.Column("sentiment_model_version", sa.String(length=32), nullable=True),
        sa.Column("sentiment_hits", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_news_items")),
        sa.UniqueConstraint("title_key", name=op.f("uq_news_items_title_key")),
        sa.UniqueConstraint("url_key", name=op.f("uq_news_items_url_key")),
    )
    with op.batch_alter_table("news_items", schema=None) as batch_op:
        batch_op.create_index("ix_news_items_published_id", ["published_at", "id"], unique=False)
    op.create_table(
        "news_item_symbols",
        sa.Column("news_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("published_at", utc, nullable=False),
        sa.ForeignKeyConstraint(
            ["news_id"],
            ["news_items.id"],
            name=op.f("fk_news_item_symbols_news_id_news_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("news_id", "symbol", name=op.f("pk_news_item_symbols")),
    )
    with op.batch_alter_table("news_item_symbols", schema=None) as batch_op:
        batch_op.create_index(
            "ix_news_item_symbols_symbol_published",
            ["symbol", "published_at", "news_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("news_item_symbols", schema=None) as batch_op:
        batch_op.drop_index("ix_news_item_symbols_symbol_published")
    op.drop_table("news_item_symbols")
    with op.batch_alter_table("news_items", schema=None) as batch_op:
        batch_op.drop_index("ix_news_items_published_id")
    op.drop_table("news_items")
