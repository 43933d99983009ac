"""webhooks: endpoints, deliveries (outbox)

Revision ID: 5e8b1d04c7a2
Revises: 3c7f2a91d0e4
Create Date: 2026-12-05 00:00:00.000000
"""

from collections.abc import Sequence

revision: str = "5e8b1d04c7a2"
down_revision: str | None = "3c7f2a91d0e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by the change that adds the tables


def downgrade() -> None:
    pass
