"""instrument fields, market summary and screener snapshot

Revision ID: a6d7f4e83c15
Revises: 9c5e3a72b0d4
Create Date: 2026-12-05 00:40:00.000000
"""

from collections.abc import Sequence

revision: str = "a6d7f4e83c15"
down_revision: str | None = "9c5e3a72b0d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by the change that adds the tables


def downgrade() -> None:
    pass
