"""sentiment votes and scores

Revision ID: 9c5e3a72b0d4
Revises: 8b4d2f61a9c3
Create Date: 2026-12-05 00:30:00.000000
"""

from collections.abc import Sequence

revision: str = "9c5e3a72b0d4"
down_revision: str | None = "8b4d2f61a9c3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by the change that adds the tables


def downgrade() -> None:
    pass
