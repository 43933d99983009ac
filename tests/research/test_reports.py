"""Research endpoints on a fresh database after the demo load (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator

import httpx
import numpy as np
import pypdfium2 as pdfium
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from quantdesk.access.scopes import Role
from quantdesk.app import create_app
from quantdesk.db import Database
from quantdesk.marketdata.demo import load_demo
from quantdesk.marketdata.schemas import InstrumentCreate
from quantdesk.marketdata.service import instrument_service
from quantdesk.models import AssetClass
from quantdesk.research.demo import load_research_demo
from tests.support.accounts import bearer, create_user, login
from tests.support.llm import FakeLlm, fake_llm
from tests.support.settings import make_settings

FUNDAMENTALS_PROVIDER = "sample (project file; Google 10-K figures FY2010-2012, rounded)"


@pytest.fixture
def llm() -> Iterator[FakeLlm]:
    with fake_llm() as server:
        yield server


@pytest.fixture
async def research_app(database_url: str, llm: FakeLlm) -> AsyncIterator[FastAPI]:
    settings = make_settings(
        database_url, research_llm_url=llm.url, research_llm_key="sk-test", research_llm_model="m"
    )
    application = create_app(settings)
    async with LifespanManager(application):
        db: Database = application.state.db
        async with db.session() as session:
            await load_demo(session)
            await load_research_demo(session)
        yield application


@pytest.fixture
async def http(research_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=research_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def headers_for(app: FastAPI, client: httpx.AsyncClient, role: Role) -> dict[str, str]:
    return bearer(await login(client, await create_user(app.state.db, role)))


async def test_demo_fundamentals_ratios_statements_and_navs(
    research_app: FastAPI, http: httpx.AsyncClient
) -> None:
    user = await headers_for(research_app, http, Role.USER)
    premium = await headers_for(research_app, http, Role.PREMIUM)

    answer = await http.get("/api/v1/research/GOOG/fundamentals", headers=user)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["meta"]["provider"] == FUNDAMENTALS_PROVIDER
    assert body["data"]["as_of"] == "2012-12-31"
    ratios = {r["name"]: r["value"] for r in body["data"]["ratios"]}
    assert ratios["pe"] == pytest.approx(806.19 / 32.31)  # last demo close / FY2012 EPS
    assert ratios["revenue_growth_pct"] == pytest.approx((50_175 / 37_905 - 1) * 100)
    assert ratios["roe_pct"] == pytest.approx(10_737 / ((71_715 + 58_145) / 2) * 100)
    assert "assets" not in body["data"]["values"]  # extended items are premium

    assert (await http.get("/api/v1/research/GOOG/statements", headers=user)).status_code == 403
    statements = await http.get("/api/v1/research/GOOG/statements", headers=premium)
    assert statements.status_code == 200
    periods = statements.json()["data"]
    assert [p["as_of"] for p in periods] == ["2012-12-31", "2011-12-31", "2010-12-31"]
    assert periods[0]["values"]["assets"] == pytest.approx(93_798e6)

    latest = (await http.get("/api/v1/fundamentals/GOOG", headers=user)).json()
    assert latest["meta"]["provider"] == FUNDAMENTALS_PROVIDER
    navs = (await http.get("/api/v1/funds/SPY/navs", headers=user)).json()
    assert navs["meta"]["provider"].startswith("sample (project file; SPY")
    assert navs["data"][-1] == {"date": "2012-12-31", "value": 142.41}

    missing = await http.get("/api/v1/research/EURUSD/fundamentals", headers=user)
    assert missing.status_code == 404
    assert "demo load" in missing.json()["detail"]


async def test_report_in_every_format(research_app: FastAPI, http: httpx.AsyncClient) -> None:
    user = await headers_for(research_app, http, Role.USER)
    md = await http.get("/api/v1/research/GOOG/report?format=md", headers=user)
    assert md.status_code == 200, md.text
    assert md.headers["content-type"].startswith("text/markdown")
    text = md.text
    for section in ("## Performance", "## Technicals", "## Fundamentals", "## Data appendix"):
        assert section in text
    assert "as_of: 2013-03-01T00:00:00Z" in text
    assert md.headers["x-inputs-sha256"] in text
    assert FUNDAMENTALS_PROVIDER in text
    assert "| pe | 24.95 |" in text
    # the same stored data, the same hash
    again = await http.get("/api/v1/research/GOOG/report?format=html", headers=user)
    assert again.headers["x-inputs-sha256"] == md.headers["x-inputs-sha256"]
    assert again.text.startswith("<!DOCTYPE html>") and "<h2>Technicals</h2>" in again.text

    pdf = await http.get("/api/v1/research/GOOG/report?format=pdf", headers=user)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    document = pdfium.PdfDocument(io.BytesIO(pdf.content))
    pixels = np.asarray(document[0].render(scale=1).to_pil().convert("L"))
    dark = (pixels < 128).mean()
    assert 0.005 < dark < 0.5  # text and table lines on a white page
    assert "GOOG" in document[0].get_textpage().get_text_range()

    bad = await http.get("/api/v1/research/GOOG/report?format=docx", headers=user)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert "format" in bad.text
    assert (await http.get("/api/v1/research/GOOG/report")).status_code == 401


async def test_no_bars_no_report(research_app: FastAPI, http: httpx.AsyncClient) -> None:
    user = await headers_for(research_app, http, Role.USER)
    async with research_app.state.db.session() as session:
        await instrument_service.upsert(
            session,
            InstrumentCreate(
                symbol="EMPTY",
                name="No bars",
                exchange="NASDAQ",
                asset_class=AssetClass.EQUITY,
                currency="USD",
            ),
        )
    answer = await http.get("/api/v1/research/EMPTY/report", headers=user)
    assert answer.status_code == 424
    assert answer.headers["content-type"] == "application/problem+json"
    assert "demo load" in answer.json()["detail"]


async def test_narrative_is_guarded_and_needs_access_ai(
    research_app: FastAPI, http: httpx.AsyncClient, llm: FakeLlm
) -> None:
    user = await headers_for(research_app, http, Role.USER)
    premium = await headers_for(research_app, http, Role.PREMIUM)
    forbidden = await http.get("/api/v1/research/GOOG/report?narrative=true", headers=user)
    assert forbidden.status_code == 403
    assert not llm.requests

    llm.reply = (
        "GOOG closed at 806.19. Its trailing P/E is 24.95. "
        "Its ROE of 31.2% leads the sector. Revenue grew 32.4% in 2012."
    )
    answer = await http.get("/api/v1/research/GOOG/report?narrative=true", headers=premium)
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-narrative-flagged"] == "true"
    assert "GOOG closed at 806.19. Its trailing P/E is 24.95." in answer.text
    assert "Revenue grew 32.4% in 2012." in answer.text
    assert "31.2" not in answer.text
    (request,) = llm.requests
    assert request["model"] == "m" and "806.19" in request["messages"][1]["content"]
    assert llm.headers[0]["Authorization"] == "Bearer sk-test"


async def test_ai_chat_answers_from_the_data_with_a_disclaimer(
    research_app: FastAPI, http: httpx.AsyncClient, llm: FakeLlm
) -> None:
    premium = await headers_for(research_app, http, Role.PREMIUM)
    user = await headers_for(research_app, http, Role.USER)
    question = {"symbol": "GOOG", "question": "How expensive is it?"}
    assert (await http.post("/api/v1/ai/chat", json=question, headers=user)).status_code == 403

    llm.reply = "The P/E is 24.95. It will reach 1,000 next year."
    answer = await http.post("/api/v1/ai/chat", json=question, headers=premium)
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["answer"] == "The P/E is 24.95."
    assert data["flagged"] is True
    assert data["dropped"] == [
        {"sentence": "It will reach 1,000 next year.", "unsupported": ["1,000"]}
    ]
    assert "Not investment advice" in data["disclaimer"]
    assert llm.requests[-1]["messages"][-1]["content"] == "How expensive is it?"

    extra = await http.post("/api/v1/ai/chat", json={**question, "x": 1}, headers=premium)
    assert extra.status_code == 422 and "x" in extra.text
    unknown = await http.post(
        "/api/v1/ai/chat", json={"symbol": "NOPE", "question": "?"}, headers=premium
    )
    assert unknown.status_code == 404
