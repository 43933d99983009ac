"""FX sources (BAM) and rate comparison

Revision ID: b7e8a5f94d26
Revises: a6d7f4e83c15
Create Date: 2026-12-05 00:50:00.000000
"""

from collections.abc import Sequence

revision: str = "b7e8a5f94d26"
down_revision: str | None = "a6d7f4e83c15"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by the change that adds the tables


def downgrade() -> None:
    pass
