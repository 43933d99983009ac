"""`quantdesk replay`: the replay runs in the CLI process and publishes on its own bus."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from quantdesk.cli import app as cli
from quantdesk.config import Settings, get_settings
from quantdesk.db import Database
from quantdesk.infra.events import MarketEvent, MemoryEventBus, ReplayStatus
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.replay.cli import run_replay
from quantdesk.marketdata.replay.run import ReplayRequest
from tests.support.events import buffered
from tests.support.factories import START_2024, create_instrument, load_bars, synthetic_bars
from tests.support.settings import make_settings, sqlite_url


async def test_run_replay_publishes_every_bar_then_stopped(
    app: FastAPI, settings: Settings, stored: BarFrame
) -> None:
    bus = MemoryEventBus(queue_size=1_000)
    async with await bus.subscribe("market.") as subscription:
        request = ReplayRequest("TEST", Timeframe.D1, START_2024, None, speed=0)
        view = await run_replay(settings, request, events=bus)
        payloads = [event.payload for event in buffered(subscription)]
    await bus.aclose()
    assert (view.state, view.bars_emitted, view.bars_total) == ("finished", 30, 30)
    assert isinstance(payloads[0], ReplayStatus) and payloads[0].state == "started"
    assert isinstance(payloads[-1], ReplayStatus) and payloads[-1].state == "stopped"
    bars = [p for p in payloads if isinstance(p, MarketEvent)]
    assert [bar.ts for bar in bars] == stored.ts.tolist()
    assert {bar.source for bar in bars} == {"replay"}


@pytest.fixture
def cli_database(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    path = tmp_path / "cli.db"
    shutil.copyfile(sqlite_template, path)
    url = sqlite_url(path)

    async def load() -> None:
        db = Database(make_settings(url))
        try:
            await create_instrument(db, "TEST")
            await load_bars(db, "TEST", synthetic_bars(5))
        finally:
            await db.dispose()

    asyncio.run(load())
    monkeypatch.setenv("QUANTDESK_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_database")
def test_the_command_replays_to_the_end_and_names_bad_options() -> None:
    runner = CliRunner()
    done = runner.invoke(cli, ["replay", "test", "--start", "2024-01-01", "--speed", "0"])
    assert done.exit_code == 0, done.output
    assert "TEST 1d: 5 of 5 bars replayed (finished)" in done.output

    bad = runner.invoke(cli, ["replay", "TEST", "--start", "2024-01-01", "--speed", "-1"])
    assert bad.exit_code == 2 and "--speed" in bad.output
    unknown = runner.invoke(cli, ["replay", "NOPE", "--start", "2024-01-01"])
    assert unknown.exit_code == 1 and "NOPE" in unknown.output
    empty = runner.invoke(cli, ["replay", "TEST", "--start", "2030-01-01"])
    assert empty.exit_code == 1 and "--start" in empty.output
