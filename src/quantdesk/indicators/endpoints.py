"""GET /indicators/{symbol}: indicator columns beside bar times."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from quantdesk.access.scopes import Scope
from quantdesk.auth.dependencies import require
from quantdesk.errors import Unprocessable, field_error
from quantdesk.indicators.schemas import IndicatorsResponse
from quantdesk.indicators.service import indicator_service, parse_set
from quantdesk.infra.cache.dependencies import CACHE_HEADER
from quantdesk.kit.app_state import app_state
from quantdesk.kit.schemas import Instant
from quantdesk.kit.symbols import SYMBOL_PATTERN
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import to_epoch
from quantdesk.marketdata.bars_cache import with_cache_status

router = APIRouter(tags=["indicators"], dependencies=[Depends(require(Scope.READ_TICKERS))])


@router.get(
    "/indicators/{symbol}",
    response_model=IndicatorsResponse,
    description=(
        "Indicators computed over stored (or resampled) bars, e.g. "
        "`set=rsi:14,macd:12:26:9,bbands:20:2`. Values match TA-Lib, warm-up included: each "
        "window is computed with extra history before it, and values still in warm-up are "
        "null. Columns: `t` (ISO-8601 bar open times) and one array per output "
        "(`rsi_14`, `macd_12_26_9`, `macd_signal_12_26_9`, ...). Cached per query (60 s "
        "fresh, then stale for up to 1 h while one refresh runs; new bars for the symbol "
        "invalidate it): `X-Cache` and `meta.cache` say `hit`, `miss` or `stale`."
    ),
)
async def get_indicators(
    request: Request,
    symbol: Annotated[str, Path(pattern=SYMBOL_PATTERN)],
    indicator_set: Annotated[
        str, Query(alias="set", min_length=1, max_length=512, description="name:arg:arg,...")
    ],
    timeframe: Timeframe = Timeframe.D1,
    start: Instant | None = None,
    end: Instant | None = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 500,
) -> Response:
    start_ts = to_epoch(start) if start else None
    end_ts = to_epoch(end) if end else None
    if start_ts is not None and end_ts is not None and start_ts > end_ts:
        raise Unprocessable(errors=[field_error(["query", "start"], "must not be after end")])
    # Database and cache from app.state: a miss computes in its own unit of work.
    state = app_state(request.app)
    head, status = await indicator_service.answer(
        state.db,
        state.cache,
        symbol=symbol,
        timeframe=timeframe,
        specs=parse_set(indicator_set),
        start=start_ts,
        end=end_ts,
        limit=limit,
    )
    return Response(
        with_cache_status(head, status),
        media_type="application/json",
        headers={CACHE_HEADER: status.value},
    )
