"""Sentiment: score texts on request, a symbol's news sentiment over a window, and votes.

The symbol answer reads the news items stored by ``marketdata.news`` (scored at ingest;
items stored unscored are scored here with the lexicon) and the votes table.

* ``score``: mean of the window's item scores; ``label`` from it: bullish >= 0.35,
  somewhat_bullish >= 0.1, bearish <= -0.35, somewhat_bearish <= -0.1, else neutral.
* ``trend``: per UTC day of the window, the count and mean score of that day's items.
* ``top_items``: the five items with the largest |score| (newest first on ties).
* Votes: counts of bullish/bearish/neutral over the window's UTC days and today, and
  ``(bullish - bearish) / total``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.analytics.sentiment import repository as repo
from quantdesk.analytics.sentiment.finbert import FinBertUnavailable, load_finbert
from quantdesk.analytics.sentiment.schemas import (
    HitRead,
    NewsCounts,
    ScoreRead,
    SymbolLabel,
    SymbolSentiment,
    SymbolSentimentMeta,
    TopItem,
    TrendPoint,
    VoteCounts,
    VoteRead,
    VotesRead,
)
from quantdesk.config import Settings
from quantdesk.engine.sentiment import SentimentScore, score_texts
from quantdesk.errors import ServiceUnavailable, Unprocessable, field_error
from quantdesk.marketdata.service import InstrumentNotFound, instrument_service
from quantdesk.models.sentiment import VoteKind

TOP_ITEMS = 5
MAX_WINDOW = timedelta(days=90)
WINDOW_PATTERN = re.compile(r"^([1-9][0-9]{0,3})([hd])$")
# The same range as one regular expression, for the OpenAPI document: 1h..2160h, 1d..90d.
WINDOW_REGEX = (
    r"^(?:(?:[1-9]|[1-8][0-9]|90)d"
    r"|(?:[1-9]|[1-9][0-9]|[1-9][0-9]{2}|1[0-9]{3}|20[0-9]{2}|21[0-5][0-9]|2160)h)$"
)
EARLIEST_END = datetime(1970, 1, 1, tzinfo=UTC)
NO_NEWS_HINT = (
    "No stored news is tagged {symbol}: news arrives from the news.fetch job (every 30 "
    "minutes, providers in QUANTDESK_PROVIDERS_NEWS) or `quantdesk demo load` (GOOG, EURUSD, "
    "BTCUSD); votes: POST /api/v1/sentiment/{symbol}/votes."
)


def parse_window(window: str) -> timedelta:
    match = WINDOW_PATTERN.match(window)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        span = timedelta(hours=amount) if unit == "h" else timedelta(days=amount)
        if span <= MAX_WINDOW:
            return span
    raise Unprocessable(
        f"window {window!r}: use hours or days up to 90d, e.g. 24h, 7d, 30d",
        errors=[field_error(["query", "window"], "expected 1h to 2160h or 1d to 90d")],
    )


def symbol_label(score: float | None) -> SymbolLabel | None:
    if score is None:
        return None
    if score >= 0.35:
        return "bullish"
    if score >= 0.1:
        return "somewhat_bullish"
    if score <= -0.35:
        return "bearish"
    if score <= -0.1:
        return "somewhat_bearish"
    return "neutral"


def _counts(rows: dict[VoteKind, int]) -> VoteCounts:
    bull, bear = rows.get(VoteKind.BULLISH, 0), rows.get(VoteKind.BEARISH, 0)
    total = sum(rows.values())
    return VoteCounts(
        bullish=bull,
        bearish=bear,
        neutral=rows.get(VoteKind.NEUTRAL, 0),
        total=total,
        score=round((bull - bear) / total, 4) if total else None,
    )


@dataclass(frozen=True, slots=True)
class _Scored:
    row: repo.NewsRow
    score: float
    label: str
    model: str
    hits: list[HitRead]


def _scored(rows: list[repo.NewsRow]) -> list[_Scored]:
    unscored = [row for row in rows if row.score is None or row.label is None]
    fresh = dict(
        zip((r.id for r in unscored), score_texts([_text(r) for r in unscored]), strict=True)
    )
    out: list[_Scored] = []
    for row in rows:
        if row.id in fresh:
            s = fresh[row.id]
            hits = [HitRead.of(h) for h in s.hits]
            out.append(_Scored(row, s.score, s.label, s.model, hits))
        else:
            assert row.score is not None
            assert row.label is not None
            hits = [HitRead.model_validate(h) for h in row.hits or []]
            out.append(_Scored(row, row.score, row.label, row.model or "lexicon", hits))
    return out


def _text(row: repo.NewsRow) -> str:
    return f"{row.title}. {row.summary}" if row.summary else row.title


class SentimentService:
    async def score(self, settings: Settings, texts: list[str], model: str) -> list[ScoreRead]:
        if model == "lexicon":
            scores = score_texts(texts)
        else:
            scores = await self._finbert(settings, texts)
        return [ScoreRead.of(score) for score in scores]

    async def _finbert(self, settings: Settings, texts: list[str]) -> list[SentimentScore]:
        path = settings.sentiment_finbert_path
        if path is None:
            raise Unprocessable(
                "model 'finbert' is not configured: set QUANTDESK_SENTIMENT_FINBERT_PATH to a "
                "local FinBERT folder (and install the 'finbert' extra), or use model 'lexicon'",
                errors=[
                    field_error(
                        ["body", "model"],
                        "finbert needs the setting QUANTDESK_SENTIMENT_FINBERT_PATH",
                    )
                ],
            )
        batch, length = settings.sentiment_finbert_batch_size, settings.sentiment_finbert_max_length
        try:
            classifier = await anyio.to_thread.run_sync(load_finbert, str(path), batch, length)
        except FinBertUnavailable as exc:
            raise ServiceUnavailable(f"FinBERT is unavailable: {exc}") from exc
        return await anyio.to_thread.run_sync(
            lambda: score_texts(
                texts, "finbert", classifier=classifier, classifier_version=classifier.version
            )
        )

    async def for_symbol(
        self,
        session: AsyncSession,
        symbol: str,
        *,
        window: str,
        end: datetime | None = None,
        user_id: int | None = None,
        now: datetime | None = None,
    ) -> tuple[SymbolSentiment, SymbolSentimentMeta]:
        symbol = symbol.upper()
        span = parse_window(window)
        if end is not None and end < EARLIEST_END + MAX_WINDOW:
            raise Unprocessable(
                "end: a date-time after 1970-04-01",
                errors=[field_error(["query", "end"], "expected a date-time after 1970-04-01")],
            )
        now = now or datetime.now(UTC)
        latest = await repo.latest_news_at(session, symbol)
        if latest is None:
            await self._require_instrument(session, symbol)
        anchored = "end" if end is not None else "now"
        news_end = end or now
        if end is None and latest is not None and latest < news_end - span:
            news_end, anchored = latest, "latest_item"
        start = news_end - span
        items = _scored(await repo.news_in_window(session, symbol, start, news_end))
        votes = await self._votes(session, symbol, span, (end or now).date(), now.date(), user_id)
        data = _summarise(symbol, window, start, news_end, items, votes)
        hint = None
        if latest is None:
            hint = NO_NEWS_HINT.format(symbol=symbol)
        elif anchored == "latest_item":
            hint = (
                f"No news for {symbol} in the {window} before now: the window ends at its newest "
                f"stored item ({latest.isoformat()}); the news.fetch job stores fresh items."
            )
        providers = sorted({item.row.provider for item in items})
        meta = SymbolSentimentMeta(
            provider=",".join(providers) if providers else "none",
            as_of=max((item.row.published_at for item in items), default=None),
            anchored=anchored,
            hint=hint,
        )
        return data, meta

    async def _require_instrument(self, session: AsyncSession, symbol: str) -> None:
        try:
            await instrument_service.get(session, symbol)
        except InstrumentNotFound as exc:
            exc.detail += "; " + NO_NEWS_HINT.format(symbol=symbol)
            raise

    async def _votes(
        self,
        session: AsyncSession,
        symbol: str,
        span: timedelta,
        last_day: date,
        today: date,
        user_id: int | None,
    ) -> VotesRead:
        days = max(1, span.days)
        first_day = last_day - timedelta(days=days - 1)
        rows = await repo.vote_counts(session, symbol, min(first_day, today), max(last_day, today))
        window: dict[VoteKind, int] = {}
        today_counts: dict[VoteKind, int] = {}
        for day, kind, n in rows:
            if first_day <= day <= last_day:
                window[kind] = window.get(kind, 0) + n
            if day == today:
                today_counts[kind] = today_counts.get(kind, 0) + n
        mine = None if user_id is None else await repo.vote_of(session, user_id, symbol, today)
        return VotesRead(
            window=_counts(window),
            today=_counts(today_counts),
            my_vote_today=mine,
            window_start_day=first_day,
            window_end_day=last_day,
        )

    async def vote(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        symbol: str,
        vote: VoteKind,
        now: datetime | None = None,
    ) -> VoteRead:
        symbol = symbol.upper()
        await instrument_service.get(session, symbol)
        now = now or datetime.now(UTC)
        day = now.date()
        before = await repo.vote_of(session, user_id, symbol, day)
        await repo.upsert_vote(session, user_id=user_id, symbol=symbol, day=day, vote=vote, now=now)
        return VoteRead(symbol=symbol, day=day, vote=vote, replaced=before, updated_at=now)


def _summarise(
    symbol: str,
    window: str,
    start: datetime,
    end: datetime,
    items: list[_Scored],
    votes: VotesRead,
) -> SymbolSentiment:
    counts = NewsCounts(total=len(items))
    for item in items:
        if item.label in ("positive", "negative", "neutral"):
            setattr(counts, item.label, getattr(counts, item.label) + 1)
    mean = round(sum(i.score for i in items) / len(items), 4) if items else None
    by_day: dict[date, list[float]] = {}
    for item in items:
        by_day.setdefault(item.row.published_at.astimezone(UTC).date(), []).append(item.score)
    trend: list[TrendPoint] = []
    day = start.astimezone(UTC).date()
    while day <= end.astimezone(UTC).date():
        scores = by_day.get(day, [])
        mean_day = round(sum(scores) / len(scores), 4) if scores else None
        trend.append(TrendPoint(day=day, count=len(scores), score=mean_day))
        day += timedelta(days=1)
    strongest = sorted(items, key=lambda i: (-abs(i.score), -i.row.published_at.timestamp()))
    top = [
        TopItem(
            id=i.row.id,
            title=i.row.title,
            url=i.row.url,
            source=i.row.source,
            published_at=i.row.published_at,
            score=i.score,
            label=i.label,
            model=i.model,
            hits=i.hits,
        )
        for i in strongest[:TOP_ITEMS]
    ]
    return SymbolSentiment(
        symbol=symbol,
        score=mean,
        label=symbol_label(mean),
        counts=counts,
        top_items=top,
        trend=trend,
        votes=votes,
        window=window,
        window_start=start,
        window_end=end,
    )


sentiment_service = SentimentService()

__all__ = ["SentimentService", "parse_window", "sentiment_service", "symbol_label"]
