"""Fundamentals: Polygon's financials endpoint against a local server speaking its real JSON,
and the files provider's `fundamentals/{SYMBOL}.json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from quantdesk.marketdata.providers.base import FundamentalsQuery
from quantdesk.marketdata.providers.errors import NoProviderAnswered, ProviderSubjectNotFound
from quantdesk.marketdata.providers.registry import ProviderRuntime
from tests.support.provider_fakes import FakeServer, Reply, payload
from tests.support.providers import fast_settings
from tests.support.secrets_watch import remember

FINANCIALS_PATH = "/vX/reference/financials"
POLYGON_KEY = "pk_test_Fq3nW8sLd2Rv6T"
remember(POLYGON_KEY)
DAY_2023_09_30 = 1_696_032_000


def polygon_settings(server: FakeServer, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "providers_fundamentals": ["polygon"],
        "polygon_base_url": server.url,
        "polygon_api_key": POLYGON_KEY,
    }
    return fast_settings(**{**values, **overrides})


async def test_polygon_financials_become_flat_values(
    server: FakeServer, runtime_factory: Any
) -> None:
    server.route(FINANCIALS_PATH, Reply(body=payload("polygon-financials-aapl.json")))
    runtime: ProviderRuntime = runtime_factory(polygon_settings(server))
    answer = await runtime.fetch(FundamentalsQuery("aapl"))
    assert answer.provider == "polygon" and answer.fallback_trace == []
    fundamentals = answer.value
    assert fundamentals.symbol == "AAPL" and fundamentals.as_of == DAY_2023_09_30
    values = fundamentals.values
    assert values["revenues"] == 383_285_000_000.0
    assert values["assets"] == 352_583_000_000.0  # balance sheet
    assert values["net_cash_flow_from_financing_activities"] == -108_488_000_000.0
    assert values["diluted_earnings_per_share"] == 6.13
    assert values["fiscal_period"] == "FY" and values["filing_date"] == "2023-11-03"
    [request] = server.hits(FINANCIALS_PATH)
    assert request.query["ticker"] == ["AAPL"] and request.query["limit"] == ["1"]
    assert request.query["order"] == ["desc"]
    assert request.headers["Authorization"] == f"Bearer {POLYGON_KEY}"
    assert POLYGON_KEY not in str(request.query)


async def test_polygon_without_filings_is_not_found(
    server: FakeServer, runtime_factory: Any
) -> None:
    empty = {"results": [], "status": "OK", "request_id": "5d1c", "count": 0}
    server.route(FINANCIALS_PATH, Reply(body=json.dumps(empty).encode()))
    runtime = runtime_factory(polygon_settings(server))
    with pytest.raises(ProviderSubjectNotFound):
        await runtime.fetch(FundamentalsQuery("ZZZZ"))


async def test_polygon_malformed_financials_fail_the_chain(
    server: FakeServer, runtime_factory: Any
) -> None:
    body = {"results": [{"end_date": "2023-09-30"}], "status": "OK"}
    server.route(FINANCIALS_PATH, Reply(body=json.dumps(body).encode()))
    runtime = runtime_factory(polygon_settings(server))
    with pytest.raises(NoProviderAnswered):
        await runtime.fetch(FundamentalsQuery("AAPL"))
    assert len(server.hits(FINANCIALS_PATH)) == 1  # permanent: not retried


def _write(folder: Path, symbol: str, document: object) -> None:
    target = folder / "fundamentals"
    target.mkdir(parents=True, exist_ok=True)
    (target / f"{symbol}.json").write_text(json.dumps(document))


async def test_files_provider_serves_a_flat_json_object(
    tmp_path: Path, runtime_factory: Any
) -> None:
    _write(tmp_path, "AAPL", {"as_of": "2023-09-30", "revenues": 383285000000, "pe": None})
    runtime = runtime_factory(
        fast_settings(providers_fundamentals=["csv"], providers_files_dirs=[tmp_path])
    )
    answer = await runtime.fetch(FundamentalsQuery("aapl"))
    assert answer.provider == "csv"
    assert answer.value.as_of == DAY_2023_09_30
    assert answer.value.values == {"revenues": 383285000000.0}  # the null is dropped
    with pytest.raises(ProviderSubjectNotFound):
        await runtime.fetch(FundamentalsQuery("MSFT"))


async def test_files_provider_refuses_nested_values(tmp_path: Path, runtime_factory: Any) -> None:
    _write(tmp_path, "AAPL", {"as_of": "2023-09-30", "income": {"revenues": 1}})
    runtime = runtime_factory(
        fast_settings(providers_fundamentals=["csv"], providers_files_dirs=[tmp_path])
    )
    with pytest.raises(NoProviderAnswered, match="not a number or text"):
        await runtime.fetch(FundamentalsQuery("AAPL"))


async def test_files_answer_when_polygon_fails(
    server: FakeServer, tmp_path: Path, runtime_factory: Any
) -> None:
    server.route(FINANCIALS_PATH, Reply(500, b'{"status": "ERROR"}'))
    _write(tmp_path, "AAPL", {"as_of": "2023-09-30", "revenues": 1.0})
    runtime = runtime_factory(
        polygon_settings(
            server, providers_fundamentals=["polygon", "csv"], providers_files_dirs=[tmp_path]
        )
    )
    answer = await runtime.fetch(FundamentalsQuery("AAPL"))
    assert answer.provider == "csv"
    assert [step.provider for step in answer.fallback_trace] == ["polygon"]
