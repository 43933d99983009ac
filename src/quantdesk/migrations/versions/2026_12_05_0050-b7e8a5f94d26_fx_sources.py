"""FX sources (BAM) and rate comparison: fx_rates gains `kind` (mid, buy, sell) and `source`
(the publisher), both in the primary key, so one day can hold the ECB's reference rate and
Bank Al-Maghrib's transfer mid and banknote buy/sell rates side by side. Stored rows become
`mid` rates of the source that was their provider.

Revision ID: b7e8a5f94d26
Revises: a6d7f4e83c15
Create Date: 2026-12-05 00:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e8a5f94d26"
down_revision: str | None = "a6d7f4e83c15"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KIND = sa.Enum(
    "mid", "buy", "sell", name="fx_rate_kind", native_enum=False, create_constraint=True, length=8
)


def upgrade() -> None:
    with op.batch_alter_table("fx_rates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", KIND, nullable=False, server_default="mid"))
        batch_op.add_column(
            sa.Column("source", sa.String(length=32), nullable=False, server_default="")
        )
    op.execute("UPDATE fx_rates SET source = substr(provider, 1, 32)")
    with op.batch_alter_table("fx_rates", schema=None) as batch_op:
        batch_op.alter_column("kind", server_default=None)
        batch_op.alter_column("source", server_default=None)
        batch_op.drop_constraint("pk_fx_rates", type_="primary")
        batch_op.create_primary_key("pk_fx_rates", ["base", "quote", "day", "kind", "source"])
        batch_op.create_index(
            "ix_fx_rates_source_day", ["base", "kind", "source", "day"], unique=False
        )


def downgrade() -> None:
    # The old key holds one rate per (base, quote, day): keep the mid rates, one source each.
    op.execute("DELETE FROM fx_rates WHERE kind <> 'mid'")
    op.execute(
        "DELETE FROM fx_rates WHERE source <> (SELECT min(f.source) FROM fx_rates f "
        "WHERE f.base = fx_rates.base AND f.quote = fx_rates.quote AND f.day = fx_rates.day)"
    )
    with op.batch_alter_table("fx_rates", schema=None) as batch_op:
        batch_op.drop_index("ix_fx_rates_source_day")
        batch_op.drop_constraint("pk_fx_rates", type_="primary")
        batch_op.create_primary_key("pk_fx_rates", ["base", "quote", "day"])
        batch_op.drop_constraint(op.f("ck_fx_rates_fx_rate_kind"), type_="check")
        batch_op.drop_column("source")
        batch_op.drop_column("kind")
