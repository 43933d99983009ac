"""Research routes: fundamentals ratios, extended statements (read:premium), the report
(md | html | pdf; a guarded LLM narrative with access:ai) and the AI chat (access:ai)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from quantdesk.access.principal import Principal
from quantdesk.access.scopes import Scope
from quantdesk.auth.dependencies import require
from quantdesk.dependencies import SessionDep, SettingsDep
from quantdesk.errors import Forbidden
from quantdesk.kit.symbols import SYMBOL_PATTERN
from quantdesk.research.render import ReportFormat
from quantdesk.research.schemas import (
    ChatMeta,
    ChatRead,
    ChatRequest,
    ChatResponse,
    DroppedRead,
    FundamentalsRatiosRead,
    FundamentalsRatiosResponse,
    PriceRead,
    RatioRead,
    ResearchMeta,
    StatementRead,
    StatementsMeta,
    StatementsResponse,
)
from quantdesk.research.service import research_service

router = APIRouter(tags=["research"])
Symbol = Annotated[str, Path(pattern=SYMBOL_PATTERN, description="Ticker symbol, e.g. GOOG")]


@router.get(
    "/research/{symbol}/fundamentals",
    response_model=FundamentalsRatiosResponse,
    dependencies=[Depends(require(Scope.READ_FINANCIALS))],
    description=(
        "The latest reported period's headline line items and computed ratios (margins, "
        "growth, ROE, debt/equity, P/E, P/B, EV/EBITDA where the inputs exist; each with "
        "its formula and any missing input). Market ratios use the latest stored close."
    ),
)
async def get_fundamentals_ratios(
    session: SessionDep, symbol: Symbol
) -> FundamentalsRatiosResponse:
    view = await research_service.fundamentals(session, symbol)
    return FundamentalsRatiosResponse(
        data=FundamentalsRatiosRead(
            symbol=view.symbol,
            as_of=view.as_of,
            values=view.basic,
            ratios=[
                RatioRead(
                    name=r.name,
                    value=r.value,
                    formula=r.formula,
                    missing=list(r.missing),
                )
                for r in view.ratios
            ],
            price=(
                PriceRead(
                    close=view.price.close,
                    ts=view.price.ts,
                    timeframe=view.price.timeframe,
                )
                if view.price
                else None
            ),
        ),
        meta=ResearchMeta(provider=view.provider, as_of=view.as_of),
    )


@router.get(
    "/research/{symbol}/statements",
    response_model=StatementsResponse,
    dependencies=[Depends(require(Scope.READ_PREMIUM))],
    description="Every stored reporting period with all its line items (premium financials).",
)
async def get_statements(session: SessionDep, symbol: Symbol) -> StatementsResponse:
    view = await research_service.fundamentals(session, symbol)
    data = [
        StatementRead(as_of=p.as_of, values=p.values, provider=p.provider) for p in view.periods
    ]
    return StatementsResponse(
        data=data,
        meta=StatementsMeta(provider=view.provider, as_of=view.as_of, count=len(data)),
    )


@router.get(
    "/research/{symbol}/report",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/markdown": {},
                "text/html": {},
                "application/pdf": {},
            },
            "description": "The report",
        },
        424: {"description": "No stored bars for the symbol: no report"},
    },
    description=(
        "A research report from stored data: performance, technicals with active signals, "
        "fundamentals and ratios, sentiment and news, and a data appendix (as_of, providers, "
        "sha256 of the inputs, also in the X-Inputs-SHA256 header). `narrative=true` adds a "
        "language-model summary (access:ai) that passed the numeric guard."
    ),
)
async def get_report(
    session: SessionDep,
    settings: SettingsDep,
    symbol: Symbol,
    principal: Annotated[Principal, Depends(require(Scope.READ_FINANCIALS))],
    format: Annotated[ReportFormat, Query(description="md, html or pdf")] = ReportFormat.MD,
    narrative: Annotated[bool, Query(description="Add a guarded LLM summary")] = False,
) -> Response:
    if narrative and not principal.has(Scope.ACCESS_AI):
        raise Forbidden(f"narrative=true needs the {Scope.ACCESS_AI.value} scope")
    report = await research_service.report(
        session, settings, symbol, format, with_narrative=narrative
    )
    headers = {
        "X-Inputs-SHA256": report.inputs_sha256,
        "Content-Disposition": f'inline; filename="{report.symbol}-report.{format.value}"',
    }
    if report.narrative is not None:
        headers["X-Narrative-Flagged"] = "true" if report.narrative.flagged else "false"
    return Response(report.body, media_type=report.media_type, headers=headers)


@router.post(
    "/ai/chat",
    response_model=ChatResponse,
    dependencies=[Depends(require(Scope.ACCESS_AI))],
    description=(
        "Ask a question about one instrument; the configured language model answers from the "
        "symbol's stored data only. Sentences with numbers not in that data are dropped and "
        "listed; the answer carries a disclaimer. No stored bars: 424; no model: 503."
    ),
)
async def post_chat(session: SessionDep, settings: SettingsDep, body: ChatRequest) -> ChatResponse:
    result = await research_service.chat(session, settings, body.symbol, body.question)
    answer = result.answer
    return ChatResponse(
        data=ChatRead(
            symbol=result.symbol,
            answer=answer.text,
            flagged=answer.flagged,
            dropped=[DroppedRead(**d) for d in answer.dropped],
            disclaimer=answer.disclaimer,
            model=answer.model,
        ),
        meta=ChatMeta(
            as_of=result.as_of,
            inputs_sha256=result.inputs_sha256,
            providers=result.providers,
        ),
    )
