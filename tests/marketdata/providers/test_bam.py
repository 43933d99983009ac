"""Bank Al-Maghrib provider against a local server speaking its format: the subscription key
header, per-unit rates (JPY/SEK/NOK are quoted per 100), duplicate rows dropped, 204 on a
holiday as an empty board, and the `bam` chain entry answering transfer mid rates."""

from __future__ import annotations

from datetime import date

import orjson
import pytest
from pydantic import SecretStr

from quantdesk.marketdata.providers.bam import (
    BANKNOTES_PATH,
    KEY_HEADER,
    TRANSFER_PATH,
    BamProvider,
    parse_rows,
)
from quantdesk.marketdata.providers.base import FxRatesQuery
from quantdesk.marketdata.providers.errors import MalformedResponse, ProviderNotConfigured
from quantdesk.marketdata.providers.http import HttpClient
from tests.support.provider_fakes import FakeServer, Reply, payload
from tests.support.secrets_watch import remember
from tests.support.settings import make_settings

KEY = "bam-test-key-0001"
remember(KEY)
OCT_30 = date(2026, 10, 30)


def _route_board(server: FakeServer) -> None:
    server.route("/" + BANKNOTES_PATH, Reply(body=payload("bam_cours_bbe.json")))
    server.route("/" + TRANSFER_PATH, Reply(body=payload("bam_cours_virement.json")))


@pytest.fixture
async def http() -> HttpClient:
    return HttpClient(timeout_seconds=2.0)


async def test_board_is_per_unit_deduplicated_and_sends_the_key(
    server: FakeServer, http: HttpClient
) -> None:
    _route_board(server)
    provider = BamProvider(http, api_key=SecretStr(KEY), base_url=server.url)
    try:
        board = await provider.fetch_board(OCT_30)
    finally:
        await http.aclose()

    assert board.day == OCT_30 and not board.holiday
    # 13 banknote rows of which 3 repeat, 11 transfer rows of which 1 repeats.
    assert board.duplicates == 4
    assert len(board.buy) == len(board.sell) == len(board.mid) == 10
    buy = {rate.currency: rate.rate for rate in board.buy}
    sell = {rate.currency: rate.rate for rate in board.sell}
    mid = {rate.currency: rate.rate for rate in board.mid}
    assert (buy["USD"], sell["USD"], mid["USD"]) == (8.9621, 10.1094, 9.74)
    # Quoted per 100 units: stored per one.
    assert buy["JPY"] == pytest.approx(0.058561) and sell["SEK"] == pytest.approx(0.95717)
    assert mid["NOK"] == pytest.approx(0.92071) and mid["JPY"] == pytest.approx(0.063528)
    for path in (BANKNOTES_PATH, TRANSFER_PATH):
        [seen] = server.hits("/" + path)
        assert seen.headers[KEY_HEADER] == KEY
        assert seen.query == {"date": ["2026-10-30"]}


async def test_a_holiday_204_is_an_empty_board_not_an_error(
    server: FakeServer, http: HttpClient
) -> None:
    server.route("/" + BANKNOTES_PATH, Reply(status=204))
    server.route("/" + TRANSFER_PATH, Reply(status=204))
    provider = BamProvider(http, api_key=SecretStr(KEY), base_url=server.url)
    try:
        board = await provider.fetch_board(date(2026, 12, 25))
    finally:
        await http.aclose()
    assert board.holiday and board.empty and board.mid == board.buy == board.sell == []


async def test_without_a_key_the_provider_says_which_setting_and_sends_nothing(
    server: FakeServer, http: HttpClient
) -> None:
    provider = BamProvider(http, api_key=None, base_url=server.url)
    with pytest.raises(ProviderNotConfigured, match="QUANTDESK_BAM_API_KEY"):
        await provider.fetch_board()
    await http.aclose()
    assert server.requests == []


def test_malformed_rows_are_refused() -> None:
    with pytest.raises(MalformedResponse, match="not a JSON list"):
        parse_rows({"moyen": 1}, ("moyen",))
    row = {"date": "2026-10-30T12:30:00", "libDevise": "EUR", "uniteDevise": 1}
    with pytest.raises(MalformedResponse, match="moyen"):
        parse_rows([{**row, "moyen": "n/a"}], ("moyen",))
    with pytest.raises(MalformedResponse, match="non-positive 'moyen'"):
        parse_rows([{**row, "moyen": 0}], ("moyen",))
    with pytest.raises(MalformedResponse, match="uniteDevise"):
        parse_rows([{**row, "moyen": 10.9, "uniteDevise": 0}], ("moyen",))
    with pytest.raises(MalformedResponse, match="date"):
        parse_rows([{**row, "moyen": 10.9, "date": "30/10/2026"}], ("moyen",))


async def test_the_bam_chain_entry_answers_transfer_mid_crossed_through_mad(
    server: FakeServer, runtime_factory: object
) -> None:
    _route_board(server)
    settings = make_settings(
        "sqlite+aiosqlite://",
        providers_fx_rates=["bam"],
        bam_api_key=KEY,
        bam_base_url=server.url,
        providers_rate_per_second=0.0,
    )
    runtime = runtime_factory(settings)  # type: ignore[operator]
    answer = await runtime.fetch(FxRatesQuery("EUR", ("USD", "MAD")))
    assert answer.provider == "bam"
    assert answer.value.rates["MAD"] == pytest.approx(10.8813)
    assert answer.value.rates["USD"] == pytest.approx(10.8813 / 9.74)
    [seen] = server.hits("/" + TRANSFER_PATH)
    assert seen.headers[KEY_HEADER] == KEY and seen.query == {}


def test_the_sample_payloads_repeat_rows_like_the_api_does() -> None:
    rows = orjson.loads(payload("bam_cours_bbe.json"))
    currencies = [row["libDevise"] for row in rows]
    assert len(currencies) > len(set(currencies))
