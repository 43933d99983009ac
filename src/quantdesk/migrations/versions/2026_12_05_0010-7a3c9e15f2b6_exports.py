"""exports: export jobs and their files

Revision ID: 7a3c9e15f2b6
Revises: 5e8b1d04c7a2
Create Date: 2026-12-05 00:00:00.000000
"""

from collections.abc import Sequence

revision: str = "7a3c9e15f2b6"
down_revision: str | None = "5e8b1d04c7a2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by the change that adds the tables


def downgrade() -> None:
    pass
