"""News job fixtures: the in-process runner (tests/support/jobs.py) on settings whose RSS feed
and Polygon point at one local fake server, and a files folder for the newsfile provider."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from quantdesk.config import Settings
from tests.support.jobs import backoff, jobs_db, runner  # noqa: F401 (fixtures)
from tests.support.provider_fakes import FakeServer, fake_server
from tests.support.reference_data import POLYGON_KEY
from tests.support.settings import make_settings


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with fake_server() as running:
        yield running


@pytest.fixture
def files_dir(tmp_path: Path) -> Path:
    (tmp_path / "news").mkdir()
    return tmp_path


@pytest.fixture
def job_settings(database_url: str, server: FakeServer, files_dir: Path) -> Settings:
    return make_settings(
        database_url,
        jobs_workers=1,
        jobs_max_retries=1,
        providers_news=["rss", "polygon", "newsfile"],
        rss_feeds={"wire": server.url + "/markets/rss"},
        polygon_base_url=server.url,
        polygon_api_key=POLYGON_KEY,
        news_symbols=["GOOG"],
        providers_files_dirs=[files_dir],
        providers_files_demo=False,
        providers_timeout_seconds=2.0,
        providers_retry_attempts=1,
        providers_rate_per_second=0.0,
    )
