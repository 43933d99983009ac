"""The policy table, its configuration, and how it shows up in the OpenAPI document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest
from fastapi import APIRouter, FastAPI

from quantdesk.access.scopes import Role
from quantdesk.ratelimit import POLICIES, RateLimitConfig, document_rate_limits
from quantdesk.ratelimit.policies import DEFAULT_TIERS, build_policies, build_tiers
from tests.support.ratelimit import limited, make_app, small_config


def test_default_tiers_match_the_product_rules() -> None:
    tiers = {role: str(item) if item else None for role, item in build_tiers().items()}
    assert tiers == {
        Role.GUEST: "60 per 1 minute",
        Role.USER: "100 per 1 minute",
        Role.PREMIUM: "1000 per 1 minute",
        Role.ANALYST: "1000 per 1 minute",
        Role.ADMIN: None,
    }
    assert set(DEFAULT_TIERS) == set(Role)


def test_named_policies_match_the_product_rules() -> None:
    refresh, backtests, historic = (
        POLICIES["signals-refresh"],
        POLICIES["backtests-create"],
        POLICIES["signals-historic"],
    )
    assert (refresh.item.amount, refresh.item.get_expiry(), refresh.key) == (5, 300, "user")
    assert (backtests.item.amount, backtests.item.get_expiry()) == (3, 3600)
    assert not backtests.applies_to(Role.PREMIUM) and backtests.applies_to(Role.USER)
    assert (historic.item.amount, historic.key) == (100, "ip")
    assert POLICIES["orders-create"].fail_closed and POLICIES["api-keys-create"].fail_closed
    assert not historic.fail_closed


def test_policy_limits_can_be_overridden_by_name_only() -> None:
    table = build_policies({"signals-refresh": "1 per 10 seconds"})
    assert table["signals-refresh"].item.get_expiry() == 10
    assert table["signals-refresh"].key == POLICIES["signals-refresh"].key
    with pytest.raises(ValueError, match="unknown policies"):
        build_policies({"no-such-policy": "1/minute"})
    with pytest.raises(ValueError, match="not a rate limit"):
        build_policies({"signals-refresh": "lots"})


@dataclass
class FakeSettings:
    redis_url: str | None = "redis://127.0.0.1:1/0"
    rate_limit_enabled: bool = True
    rate_limit_guest: str = "7/minute"
    rate_limit_user: str = "100/minute"
    rate_limit_premium: str = "1000/minute"
    rate_limit_analyst: str = "1000/minute"
    rate_limit_admin: str = "unlimited"
    rate_limit_policies: Mapping[str, str] = field(
        default_factory=lambda: {"auth-login": "3/minute"}
    )
    rate_limit_redis_retry_seconds: float = 2.0
    rate_limit_redis_timeout_seconds: float = 0.25
    trusted_proxies: Sequence[str] = ("10.0.0.0/8",)
    ip_blocklist: Sequence[str] = ("203.0.113.0/24", "198.51.100.7")
    abuse_429_threshold: int = 4
    abuse_window_seconds: int = 30
    abuse_block_seconds: int = 120


def test_config_is_built_from_settings() -> None:
    config = RateLimitConfig.from_settings(FakeSettings())
    assert config.storage_url == "redis://127.0.0.1:1/0"
    guest = config.tiers[Role.GUEST]
    assert guest is not None and guest.amount == 7
    assert config.tiers[Role.ADMIN] is None
    assert config.policies["auth-login"].item.amount == 3
    assert [str(n) for n in config.trusted_proxies] == ["10.0.0.0/8"]
    assert [str(n) for n in config.blocklist] == ["203.0.113.0/24", "198.51.100.7/32"]
    assert (config.abuse_threshold, config.abuse_window_seconds) == (4, 30)
    assert config.abuse_block_seconds == 120
    assert config.redis_retry_seconds == 2.0


def test_openapi_description_of_a_limited_route_lists_its_limits() -> None:
    app = make_app(small_config())
    paths = app.openapi()["paths"]
    refresh = paths["/api/signals/refresh"]["post"]
    assert "**Rate limits**" in refresh["description"]
    assert "guest 5 per minute" in refresh["description"]
    assert "user 10 per minute" in refresh["description"]
    assert "admin unlimited" in refresh["description"]
    assert "`signals-refresh`: 2 per 5 minutes per user" in refresh["description"]
    assert "429" in refresh["responses"]
    assert "Retry-After" in refresh["responses"]["429"]["headers"]
    # The docstring is kept, the limits are appended.
    market = paths["/api/market"]["get"]
    assert market["description"].startswith("Quotes.")
    assert "signals-refresh" not in market["description"]
    backtests = paths["/api/backtests"]["post"]["description"]
    assert "`backtests-create`: 1 per hour per user (not for premium, analyst, admin)" in backtests
    orders = paths["/api/orders"]["post"]
    assert "503" in orders["responses"] and "503" not in refresh["responses"]
    assert "Rate limits" not in paths["/health"]["get"].get("description", "")


def test_document_rate_limits_rejects_unknown_policy_names() -> None:
    app = FastAPI()
    router = APIRouter()

    @router.get("/typo", dependencies=[limited("signal-refresh")])
    async def typo() -> None:
        return None

    app.include_router(router)
    with pytest.raises(ValueError, match="signal-refresh"):
        document_rate_limits(app, small_config())
