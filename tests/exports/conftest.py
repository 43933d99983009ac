"""Export test fixtures: files go to a temporary folder; an analyst (export:data) and an
admin signed in. Helpers shared by the modules are in tests/support/exports.py."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from quantdesk.access.scopes import Role
from quantdesk.config import Settings
from quantdesk.db import Database
from tests.support.exports import signed_in
from tests.support.settings import make_settings


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, exports_dir=tmp_path / "exports")


@pytest.fixture
async def analyst(client: httpx.AsyncClient, db: Database) -> dict[str, str]:
    return await signed_in(client, db, Role.ANALYST)


@pytest.fixture
async def other_analyst(client: httpx.AsyncClient, db: Database) -> dict[str, str]:
    return await signed_in(client, db, Role.ANALYST)


@pytest.fixture
async def admin(client: httpx.AsyncClient, db: Database) -> dict[str, str]:
    return await signed_in(client, db, Role.ADMIN)
