"""/sentiment: score texts, a symbol's news sentiment and votes. Thin: one service call each."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from quantdesk.analytics.sentiment.schemas import (
    ScoreMeta,
    ScoreRequest,
    ScoreResponse,
    SymbolSentimentResponse,
    VoteRequest,
    VoteResponse,
)
from quantdesk.analytics.sentiment.service import WINDOW_REGEX, sentiment_service
from quantdesk.auth.dependencies import ReadTickers, SignedIn, owner_id, policy
from quantdesk.dependencies import SessionDep, SettingsDep
from quantdesk.kit.schemas import Instant
from quantdesk.kit.symbols import SYMBOL_PATTERN

router = APIRouter(tags=["sentiment"])
SymbolPath = Annotated[str, Path(pattern=SYMBOL_PATTERN, description="e.g. GOOG")]


@router.post(
    "/sentiment/score",
    response_model=ScoreResponse,
    dependencies=[Depends(policy("sentiment-score"))],
    description=(
        "Score your own texts (1 to 1,000): one `{score, label, model, model_version, hits}` "
        "per text, in order. `model`: `lexicon` (Loughran-McDonald words, negation, news "
        "direction words; docs/research.md) or `finbert` (a local model configured with "
        "QUANTDESK_SENTIMENT_FINBERT_PATH; 422 naming the setting when unset)."
    ),
)
async def score_texts(
    body: ScoreRequest, principal: ReadTickers, settings: SettingsDep
) -> ScoreResponse:
    scores = await sentiment_service.score(settings, body.texts, body.model)
    version = scores[0].model_version if scores else None
    return ScoreResponse(
        data=scores, meta=ScoreMeta(count=len(scores), model=body.model, model_version=version)
    )


@router.get(
    "/sentiment/{symbol}",
    response_model=SymbolSentimentResponse,
    description=(
        "A symbol's sentiment over `window` (1h..90d, default 7d): the mean score of its "
        "stored news items and its label (bullish, somewhat_bullish, neutral, "
        "somewhat_bearish, bearish), counts per label, the strongest items with their hits, "
        "a daily trend, and the users' votes. The window ends now, at `end` when given, or at "
        "the symbol's newest stored item when nothing is newer (`meta.anchored` says which)."
    ),
)
async def symbol_sentiment(
    symbol: SymbolPath,
    principal: ReadTickers,
    session: SessionDep,
    window: Annotated[
        str, Query(pattern=WINDOW_REGEX, description="1h..2160h or 1d..90d, e.g. 24h, 7d")
    ] = "7d",
    end: Annotated[
        Instant | None, Query(description="ISO-8601 with a timezone, or a date; default now")
    ] = None,
) -> SymbolSentimentResponse:
    data, meta = await sentiment_service.for_symbol(
        session, symbol, window=window, end=end, user_id=principal.user_id
    )
    return SymbolSentimentResponse(data=data, meta=meta)


@router.post(
    "/sentiment/{symbol}/votes",
    response_model=VoteResponse,
    dependencies=[Depends(policy("sentiment-votes"))],
    description=(
        'Vote `{"vote": "bullish" | "bearish" | "neutral"}` on a listed symbol: one vote per '
        "user, symbol and UTC day (a second vote that day replaces the first; `replaced` "
        "names it). Counted in GET /sentiment/{symbol}."
    ),
)
async def vote(
    symbol: SymbolPath, body: VoteRequest, principal: SignedIn, session: SessionDep
) -> VoteResponse:
    data = await sentiment_service.vote(
        session, user_id=owner_id(principal), symbol=symbol, vote=body.vote
    )
    return VoteResponse(data=data)
