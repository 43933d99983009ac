"""The test app served by real uvicorn processes in test_processes.py, configured from env:
QD_TEST_REDIS_URL, QD_TEST_GUEST_LIMIT and QD_TEST_KEY_PREFIX."""

from __future__ import annotations

import os

from quantdesk.access.scopes import Role
from quantdesk.ratelimit.policies import build_tiers
from tests.support.ratelimit import make_app, small_config

app = make_app(
    small_config(
        storage_url=os.environ["QD_TEST_REDIS_URL"],
        tiers=build_tiers({Role.GUEST: os.environ.get("QD_TEST_GUEST_LIMIT", "20/minute")}),
        key_prefix=os.environ.get("QD_TEST_KEY_PREFIX", "test:processes"),
        abuse_threshold=1000,
    )
)
