"""Research service: fundamentals with ratios, extended statements, reports and AI chat.

Typed results out; the endpoints only declare inputs and serialise. A report with a narrative
asks the language model only once the data context exists (no data: 424 before any call).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.config.settings import Settings
from quantdesk.research import llm
from quantdesk.research.context import build_context
from quantdesk.research.fundamentals import FundamentalsView, fundamentals_view
from quantdesk.research.render import MEDIA_TYPES, ReportFormat, render


@dataclass(frozen=True)
class Report:
    symbol: str
    format: ReportFormat
    media_type: str
    body: bytes
    as_of: str
    inputs_sha256: str
    providers: list[str]
    narrative: llm.GuardedText | None


@dataclass(frozen=True)
class ChatAnswer:
    symbol: str
    answer: llm.GuardedText
    as_of: str
    inputs_sha256: str
    providers: list[str]


class ResearchService:
    async def fundamentals(self, session: AsyncSession, symbol: str) -> FundamentalsView:
        return await fundamentals_view(session, symbol)

    async def report(
        self,
        session: AsyncSession,
        settings: Settings,
        symbol: str,
        fmt: ReportFormat,
        *,
        with_narrative: bool = False,
    ) -> Report:
        context = await build_context(session, symbol)
        narrative = await llm.narrative(settings, context) if with_narrative else None
        appendix: dict[str, Any] = context["appendix"]
        return Report(
            symbol=context["symbol"],
            format=fmt,
            media_type=MEDIA_TYPES[fmt],
            body=render(fmt, context, narrative),
            as_of=appendix["as_of"],
            inputs_sha256=appendix["inputs_sha256"],
            providers=list(appendix["providers"]),
            narrative=narrative,
        )

    async def chat(
        self, session: AsyncSession, settings: Settings, symbol: str, question: str
    ) -> ChatAnswer:
        context = await build_context(session, symbol)
        answer = await llm.chat(settings, context, question)
        appendix: dict[str, Any] = context["appendix"]
        return ChatAnswer(
            symbol=context["symbol"],
            answer=answer,
            as_of=appendix["as_of"],
            inputs_sha256=appendix["inputs_sha256"],
            providers=list(appendix["providers"]),
        )


research_service = ResearchService()
