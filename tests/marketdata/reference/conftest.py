"""Reference-data job fixtures: the jobs' in-process runner (tests/jobs/conftest.py) on
settings whose network providers all point at one local fake server (ECB XML, FRED JSON,
Polygon financials JSON), plus a files-provider folder for fund NAVs and fundamentals."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from quantdesk.config import Settings
from tests.support.jobs import backoff, jobs_db, runner  # noqa: F401 (fixtures)
from tests.support.provider_fakes import FakeServer, fake_server
from tests.support.reference_data import ECB_PATH, FRED_KEY, POLYGON_KEY
from tests.support.secrets_watch import remember
from tests.support.settings import make_settings

remember(FRED_KEY, POLYGON_KEY)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with fake_server() as running:
        yield running


@pytest.fixture
def closed_port_url() -> str:
    """A local address nothing listens on: connecting is refused at once, as offline."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def files_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "marketdata"
    folder.mkdir()
    return folder


@pytest.fixture
def job_settings(database_url: str, server: FakeServer, files_dir: Path) -> Settings:
    return make_settings(
        database_url,
        jobs_workers=1,
        jobs_max_retries=1,
        jobs_retry_backoff_seconds=2.0,
        jobs_shutdown_grace_seconds=5.0,
        jobs_fx_bases=["EUR", "USD"],
        jobs_economic_series=["CPIAUCSL"],
        jobs_fund_navs=[],
        providers_fx_rates=["ecb"],
        providers_economic_series=["fred"],
        providers_fund_navs=["csv"],
        providers_fundamentals=["polygon"],
        providers_files_dirs=[files_dir],
        providers_files_demo=False,
        ecb_url=server.url + ECB_PATH,
        fred_base_url=server.url + "/fred",
        fred_api_key=FRED_KEY,
        polygon_base_url=server.url,
        polygon_api_key=POLYGON_KEY,
        # Fast provider retries: the job's own backoff is recorded, not slept (`backoff`).
        providers_timeout_seconds=2.0,
        providers_backoff_initial_seconds=0.01,
        providers_backoff_max_seconds=0.02,
        providers_backoff_jitter_seconds=0.0,
        providers_rate_per_second=0.0,
    )
