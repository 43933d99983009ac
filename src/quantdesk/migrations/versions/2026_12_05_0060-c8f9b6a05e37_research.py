"""research reports

Revision ID: c8f9b6a05e37
Revises: b7e8a5f94d26
Create Date: 2026-12-05 00:60:00.000000
"""

from collections.abc import Sequence

revision: str = "c8f9b6a05e37"
down_revision: str | None = "b7e8a5f94d26"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by the change that adds the tables


def downgrade() -> None:
    pass
