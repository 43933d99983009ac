"""Migration b7e8a5f94d26: rows stored before it become mid rates of their provider (their
source), the key takes kind and source, and a downgrade keeps one mid rate per pair and day."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from quantdesk import migrate
from tests.support.settings import sqlite_url

BEFORE, FX_SOURCES = "a6d7f4e83c15", "b7e8a5f94d26"


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            result = connection.execute(sa.text(sql))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def test_stored_rates_become_mid_rates_of_their_provider(tmp_path: Path) -> None:
    path = tmp_path / "fx.db"
    migrate.upgrade(sqlite_url(path), BEFORE)
    _rows(
        path,
        "INSERT INTO fx_rates (base, quote, day, rate, provider, fetched_at) VALUES "
        "('EUR', 'USD', '2024-01-05', 1.0921, 'ecb', '2024-01-05 16:05:00.000000')",
    )
    migrate.upgrade(sqlite_url(path), FX_SOURCES)
    assert _rows(path, "SELECT base, quote, kind, source, rate FROM fx_rates") == [
        ("EUR", "USD", "mid", "ecb", 1.0921)
    ]
    # The same pair and day from another source, and a BAM buy rate, now fit side by side.
    _rows(
        path,
        "INSERT INTO fx_rates (base, quote, day, kind, source, rate, provider, fetched_at) "
        "VALUES ('EUR', 'USD', '2024-01-05', 'mid', 'bam', 1.0925, 'bam', "
        "'2024-01-05 13:00:00.000000'), ('EUR', 'USD', '2024-01-05', 'buy', 'bam', 1.05, "
        "'bam', '2024-01-05 13:00:00.000000')",
    )
    assert _rows(path, "SELECT count(*) FROM fx_rates") == [(3,)]
    migrate.downgrade(sqlite_url(path), BEFORE)
    assert _rows(path, "SELECT base, quote, rate, provider FROM fx_rates") == [
        ("EUR", "USD", 1.0925, "bam")
    ]
