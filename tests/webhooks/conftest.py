"""Webhook tests run against a real loopback receiver the SSRF guard lets through."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from quantdesk.config import Settings
from tests.support.webhooks import Receiver, webhook_settings


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def settings(
    database_url: str, receiver: Receiver, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return webhook_settings(
        database_url, receiver, mail_dir=tmp_path_factory.mktemp("mail"), paper_desk_enabled=False
    )
