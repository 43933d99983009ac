"""Alembic migrations, shipped inside the package so `quantdesk db upgrade` works from any
install (wheel, container), not only from a source checkout."""
