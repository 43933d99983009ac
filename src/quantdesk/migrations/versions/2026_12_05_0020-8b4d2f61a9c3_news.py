"""news items

Revision ID: 8b4d2f61a9c3
Revises: 7a3c9e15f2b6
Create Date: 2026-12-05 00:20:00.000000
"""

from collections.abc import Sequence

revision: str = "8b4d2f61a9c3"
down_revision: str | None = "7a3c9e15f2b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by the change that adds the tables


def downgrade() -> None:
    pass
