"""`quantdesk ingest csv` records an instrument's industry and country, which the instrument
reads and the market snapshot (screener) serve."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from quantdesk.cli import app as cli
from quantdesk.config import get_settings
from quantdesk.db import Database
from quantdesk.models import Instrument


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("QUANTDESK_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_ingest_csv_stores_industry_and_country(cli_database: str, tmp_path: Path) -> None:
    csv = tmp_path / "acme.csv"
    csv.write_text("date,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,10\n")
    options = ["--exchange", "NYSE", "--asset-class", "equity", "--sector", "Industrials"]
    options += ["--industry", "Machinery", "--country", "us"]
    loaded = CliRunner().invoke(
        cli,
        ["ingest", "csv", str(csv), "--symbol", "ACME", *options],
    )
    assert loaded.exit_code == 0, loaded.output

    async def read() -> tuple[str | None, str | None]:
        db = Database(get_settings())
        try:
            async with db.session() as session:
                row = (
                    await session.execute(
                        select(Instrument.industry, Instrument.country).where(
                            Instrument.symbol == "ACME"
                        )
                    )
                ).one()
                return row[0], row[1]
        finally:
            await db.dispose()

    assert asyncio.run(read()) == ("Machinery", "US")
