"""fx.fetch_bam fixtures: the jobs' in-process runner on settings whose BAM base URL is a
local fake server speaking the API's format."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from quantdesk.config import Settings
from tests.support.fx import BAM_KEY
from tests.support.jobs import backoff, jobs_db, runner  # noqa: F401 (fixtures)
from tests.support.provider_fakes import FakeServer, fake_server
from tests.support.secrets_watch import remember
from tests.support.settings import make_settings

remember(BAM_KEY)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with fake_server() as running:
        yield running


@pytest.fixture
def job_settings(database_url: str, server: FakeServer) -> Settings:
    return make_settings(
        database_url,
        jobs_workers=1,
        jobs_max_retries=1,
        jobs_retry_backoff_seconds=2.0,
        jobs_shutdown_grace_seconds=5.0,
        bam_api_key=BAM_KEY,
        bam_base_url=server.url + "/",
        providers_timeout_seconds=2.0,
    )
