"""The data context of a research report (and of the AI chat): everything the report states,
as one JSON-ready document, hashed (sha256 of its canonical JSON) in the appendix.

No price history, no report: `MissingResearchData` (424) says how to get the bars. Sections
whose data is not stored say how to get it (`missing`), never an invented figure.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.engine.research.performance import performance
from quantdesk.indicators.service import indicator_service, parse_set
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import iso_z
from quantdesk.marketdata.service import bar_service, instrument_service
from quantdesk.models import SignalStatus
from quantdesk.research.errors import MissingResearchData, NoFundamentals
from quantdesk.research.fundamentals import HOW_TO_GET, fundamentals_view
from quantdesk.signals.repository import SignalFilter
from quantdesk.signals.service import signal_service

HISTORY_BARS = 5_000  # enough for 5-year daily returns and the 200-bar average
INDICATORS = "rsi:14,sma:50,sma:200,macd:12:26:9"
NEWS_HOW_TO_GET = (
    "store news with the `news.fetch` job (news feeds configured) or run `quantdesk demo load`"
)

Document = dict[str, Any]


def _clean(value: Any) -> Any:
    """NaN and infinities become None (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def inputs_sha256(context: Document) -> str:
    """sha256 of the context without its appendix and generation time: the same stored data
    gives the same hash."""
    body = {k: v for k, v in context.items() if k not in ("appendix", "generated_at")}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def _timeframe(session: AsyncSession, symbol: str) -> tuple[Any, Timeframe]:
    instrument = await instrument_service.get(session, symbol)
    coverage = await instrument_service.coverage(session, instrument)
    if not coverage:
        raise MissingResearchData(
            f"{instrument.symbol} has no stored bars, so there is no report: ingest bars "
            "(`quantdesk ingest`, the bars jobs) or run `quantdesk demo load`"
        )
    stored = {c.timeframe for c in coverage}
    timeframe = Timeframe.D1 if Timeframe.D1 in stored else min(stored, key=lambda t: t.seconds)
    return instrument, timeframe


async def _technicals(session: AsyncSession, symbol: str, timeframe: Timeframe) -> Document:
    series = await indicator_service.compute(
        session,
        symbol=symbol,
        timeframe=timeframe,
        specs=parse_set(INDICATORS),
        start=None,
        end=None,
        limit=1,
    )
    last_close = float(series.bars.close[-1]) if len(series.bars) else math.nan
    indicators: dict[str, float | None] = {}
    for name, values in series.values.items():
        value = float(values[-1]) if values.size else math.nan
        indicators[name] = value if math.isfinite(value) else None
    distances: dict[str, float | None] = {}
    for name in ("sma_50", "sma_200"):
        average = next((v for k, v in indicators.items() if k.lower() == name), None)
        distances[f"distance_{name}_pct"] = (
            (last_close / average - 1.0) * 100.0 if average else None
        )
    rows, _ = await signal_service.search(
        session,
        filters=SignalFilter(symbol=symbol, status=SignalStatus.ACTIVE),
        limit=10,
    )
    signals = [
        {
            "strategy": row.strategy,
            "timeframe": row.timeframe,
            "direction": str(row.direction.value),
            "entry": row.entry,
            "target": row.target,
            "stop": row.stop,
            "confidence": row.confidence,
            "rationale": row.rationale,
            "created_at": iso_z(row.created_at),
        }
        for row in rows
    ]
    return {
        "timeframe": timeframe.value,
        "indicators": indicators,
        **distances,
        "active_signals": signals,
        "missing": None if signals else "no active signal (the signals jobs generate them)",
    }


async def _fundamentals(session: AsyncSession, symbol: str) -> Document:
    try:
        view = await fundamentals_view(session, symbol)
    except NoFundamentals:
        return {"missing": f"no stored fundamentals: {HOW_TO_GET}"}
    return {
        "as_of": view.as_of.isoformat(),
        "provider": view.provider,
        "values": view.basic,
        "ratios": {r.name: r.value for r in view.ratios},
        "price": asdict(view.price) if view.price else None,
        "missing": None,
    }


async def _news(session: AsyncSession, symbol: str, limit: int = 8) -> Document:
    """Headlines and their stored sentiment, read from the news tables when they exist."""

    def has_news(sync_session: Any) -> bool:
        return bool(inspect(sync_session.connection()).has_table("news_item_symbols"))

    if not await session.run_sync(has_news):
        return {"headlines": [], "sentiment": None, "missing": NEWS_HOW_TO_GET}
    rows = (
        await session.execute(
            text(
                "SELECT n.title, n.source, n.url, n.published_at, n.provider, "
                "n.sentiment_score, n.sentiment_label FROM news_item_symbols s "
                "JOIN news_items n ON n.id = s.news_id WHERE s.symbol = :symbol "
                "ORDER BY s.published_at DESC LIMIT :limit"
            ),
            {"symbol": symbol, "limit": limit},
        )
    ).all()
    if not rows:
        return {
            "headlines": [],
            "sentiment": None,
            "missing": f"no news about {symbol}: " + NEWS_HOW_TO_GET,
        }
    headlines = [
        {
            "title": row.title,
            "source": row.source,
            "url": row.url,
            "published_at": str(row.published_at)[:19],
            "provider": row.provider,
            "sentiment": row.sentiment_label,
            "score": row.sentiment_score,
        }
        for row in rows
    ]
    scores = [float(row.sentiment_score) for row in rows if row.sentiment_score is not None]
    sentiment = None
    if scores:
        mean = sum(scores) / len(scores)
        label = "positive" if mean > 0.05 else "negative" if mean < -0.05 else "neutral"
        sentiment = {"mean_score": mean, "label": label, "scored_items": len(scores)}
    return {"headlines": headlines, "sentiment": sentiment, "missing": None}


async def build_context(session: AsyncSession, symbol: str) -> Document:
    """The report's data: raises MissingResearchData (424) without stored bars."""
    instrument, timeframe = await _timeframe(session, symbol.upper())
    series = await bar_service.get_bars(
        session,
        symbol=instrument.symbol,
        timeframe=timeframe,
        start=None,
        end=None,
        limit=HISTORY_BARS,
    )
    bars = series.bars
    perf = performance(bars.ts, bars.close)
    as_of = datetime.fromtimestamp(perf.last_ts, UTC)
    providers = ["bars: stored " + timeframe.value + " bars"]
    context: Document = {
        "symbol": instrument.symbol,
        "name": instrument.name,
        "asset_class": str(instrument.asset_class.value),
        "exchange": instrument.exchange,
        "currency": instrument.currency,
        "sector": instrument.sector,
        "as_of": iso_z(as_of),
        "performance": {
            "timeframe": timeframe.value,
            "first_bar": iso_z(datetime.fromtimestamp(perf.first_ts, UTC)),
            "bars": perf.bars,
            "last_close": perf.last_close,
            "returns_pct": perf.returns_pct,
            "volatility_1y_pct": perf.volatility_1y_pct,
            "max_drawdown_1y_pct": perf.max_drawdown_1y_pct,
            "max_drawdown_pct": perf.max_drawdown_pct,
            "bars_per_year": perf.bars_per_year,
        },
        "technicals": await _technicals(session, instrument.symbol, timeframe),
        "fundamentals": await _fundamentals(session, instrument.symbol),
        "news": await _news(session, instrument.symbol),
    }
    fundamentals_provider = context["fundamentals"].get("provider")
    if fundamentals_provider:
        providers.append(f"fundamentals: {fundamentals_provider}")
    news_providers = sorted({h["provider"] for h in context["news"]["headlines"]})
    if news_providers:
        providers.append("news: " + ", ".join(news_providers))
    context = _clean(context)
    context["generated_at"] = iso_z(datetime.now(UTC))
    context["appendix"] = {
        "as_of": context["as_of"],
        "providers": providers,
        "inputs_sha256": inputs_sha256(context),
    }
    return context
