"""Content negotiation honours q-values, and the bars CSV honours `time_format`."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from quantdesk.db import Database
from quantdesk.http.negotiation import negotiate
from tests.support.factories import START_2024, create_instrument, load_bars, synthetic_bars
from tests.support.http import assert_exact_problem as assert_problem

JSON, CSV = "application/json", "text/csv"
OFFERED = (JSON, CSV)


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("text/csv", CSV),
        ("text/*", CSV),
        ("text/csv;q=0.5, application/json", JSON),
        ("application/json;q=0.2, text/csv;q=0.9", CSV),
        ("text/csv, application/json", JSON),  # a tie: the route's preference
        ("text/csv;q=0.5, */*;q=0.1", CSV),
        ("*/*;q=0.1, text/csv;q=0", JSON),  # the specific range wins: CSV is excluded
        ("application/json;q=0, text/csv;q=0", None),
        ("image/png", None),
        ("text/html, image/*;q=0.8", None),
        ("TEXT/CSV; Q=0.7", CSV),
        ("text/csv;q=abc, application/json;q=0.1", JSON),  # a malformed q drops that range
    ],
)
def test_negotiate(accept: str | None, chosen: str | None) -> None:
    assert negotiate(accept, OFFERED) == chosen


@pytest.fixture
async def bars(db: Database) -> None:
    await create_instrument(db, "TEST")
    await load_bars(db, "TEST", synthetic_bars(30))


@pytest.mark.usefixtures("bars")
async def test_bars_honour_q_values(client: httpx.AsyncClient) -> None:
    prefers_json = await client.get(
        "/api/v1/bars/TEST?limit=3", headers={"Accept": "text/csv;q=0.5, application/json"}
    )
    assert prefers_json.status_code == 200
    assert prefers_json.headers["content-type"].startswith(JSON)
    prefers_csv = await client.get(
        "/api/v1/bars/TEST?limit=3", headers={"Accept": "application/json;q=0.5, text/csv"}
    )
    assert prefers_csv.headers["content-type"].startswith(CSV)
    refused = await client.get(
        "/api/v1/bars/TEST?limit=3", headers={"Accept": "text/csv;q=0, application/json;q=0"}
    )
    body = assert_problem(refused, 406, "not-acceptable")
    assert "text/csv" in str(body["detail"])


@pytest.mark.usefixtures("bars")
async def test_bars_csv_honours_time_format(client: httpx.AsyncClient) -> None:
    first = START_2024 + 27 * 86_400

    async def timestamps(query: str) -> list[str]:
        response = await client.get(f"/api/v1/bars/TEST?limit=3{query}", headers={"Accept": CSV})
        assert response.headers["content-type"].startswith(CSV)
        return [row["timestamp"] for row in csv.DictReader(io.StringIO(response.text))]

    assert await timestamps("&time_format=unix") == [str(first + i * 86_400) for i in range(3)]
    iso = await timestamps("&time_format=iso")
    assert iso[0].endswith("Z") and iso == await timestamps("")
    # format=columns defaults JSON times to unix; CSV has no columns and stays ISO.
    assert await timestamps("&format=columns") == iso
