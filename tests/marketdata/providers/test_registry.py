"""Building the provider runtime from settings: chain syntax, shared guards, config errors."""

from __future__ import annotations

import pytest

from quantdesk.config import ConfigError, Settings
from quantdesk.infra.state import MemoryStateStore
from quantdesk.marketdata.providers.base import DataKind
from quantdesk.marketdata.providers.registry import build_provider_runtime
from tests.support.providers import fast_settings


async def test_defaults_work_offline_first() -> None:
    runtime = build_provider_runtime(Settings(_env_file=None), MemoryStateStore())
    try:
        assert runtime.chain(DataKind.BARS).names == ["csv"]
        assert runtime.chain(DataKind.FX_RATES).names == ["ecb"]
        assert runtime.chain(DataKind.NEWS).names == []
        assert sorted(runtime.slots) == ["csv", "ecb"]
    finally:
        await runtime.aclose()


def test_chains_come_comma_separated_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUANTDESK_PROVIDERS_BARS", "ccxt:binance, CSV")
    monkeypatch.setenv("QUANTDESK_PROVIDERS_QUOTES", '["polygon"]')
    settings = Settings(_env_file=None)
    assert settings.providers_bars == ["ccxt:binance", "CSV"]
    assert settings.providers_quotes == ["polygon"]


async def test_one_provider_in_several_chains_has_one_breaker_and_budget() -> None:
    settings = fast_settings(
        providers_bars=["polygon", "csv"],
        providers_quotes=["Polygon"],
        providers_rate_limits={"polygon": 0.5},
        providers_concurrency_limits={"polygon": 1},
    )
    runtime = build_provider_runtime(settings, MemoryStateStore())
    try:
        assert runtime.chain(DataKind.QUOTES).names == ["polygon"]
        assert sorted(runtime.slots) == ["csv", "ecb", "polygon"]  # ecb: the fx default
        budget = runtime.slots["polygon"].budget.budget
        assert (budget.rate_per_second, budget.concurrency) == (0.5, 1)
        assert runtime.slots["csv"].budget.budget.concurrency == settings.providers_concurrency
        assert runtime.chain_positions("polygon") == {"bars": 1, "quotes": 1}
    finally:
        await runtime.aclose()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"providers_bars": ["yahoo"]}, "unknown provider 'yahoo'"),
        ({"providers_news": ["ecb"]}, "QUANTDESK_PROVIDERS_NEWS: ecb cannot serve news"),
        ({"providers_fx_rates": ["html:bam"]}, "add 'bam' to QUANTDESK_HTML_RATE_TABLES"),
        ({"providers_bars": ["ccxt"]}, "unknown provider 'ccxt'"),
    ],
)
def test_a_wrong_chain_entry_fails_the_build_naming_it(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        build_provider_runtime(fast_settings(**overrides), MemoryStateStore())
