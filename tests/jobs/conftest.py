"""Job fixtures: a migrated database (SQLite and PostgreSQL), an in-process runner whose
backoff waits are recorded instead of slept, and a files-provider folder for new bars."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from quantdesk.config import Settings
from quantdesk.jobs import registry
from tests.support.jobs import backoff, jobs_db, runner  # noqa: F401 (fixtures)
from tests.support.settings import make_settings


@pytest.fixture
def job_settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url,
        jobs_workers=2,
        jobs_retry_backoff_seconds=2.0,
        jobs_retry_backoff_max_seconds=5.0,
        jobs_max_retries=2,
        jobs_shutdown_grace_seconds=5.0,
        # The bars chain's files provider reads this test's folder only (see `bars_dir`).
        providers_files_dirs=[tmp_path / "marketdata"],
        providers_files_demo=False,
    )


@pytest.fixture
def bars_dir(job_settings: Settings) -> Path:
    """Where `marketdata.fetch_bars` finds new bars (the files provider's directory)."""
    folder = job_settings.providers_files_dirs[0]
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def throwaway_tasks() -> Iterator[list[str]]:
    """Names of test-only tasks registered by a test; unregistered afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        registry.unregister(name)
