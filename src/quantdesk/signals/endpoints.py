"""Signal endpoints: thin, one service call each.

Reads need `read:tickers` (every role, anonymous guests included). Refresh computes on
demand, so it needs `run:backtest`, the compute scope every signed-in role from `user` up
holds and guests lack, plus its own per-user rate limit. `/signals/historic` is public,
limited per client IP, and shows only signals older than `signals_historic_delay_hours`.
`/signals/stats` has the policy of `/signals` (`read:tickers`), not of the public delayed
feed: its figures include every signal, however recent.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from quantdesk.access.scopes import Scope
from quantdesk.auth.dependencies import PUBLIC, policy, require
from quantdesk.dependencies import SessionDep, SettingsDep
from quantdesk.infra.cache.dependencies import CACHE_HEADER
from quantdesk.kit.app_state import app_state
from quantdesk.kit.pagination import ListMeta, Page
from quantdesk.kit.schemas import Instant
from quantdesk.kit.symbols import SYMBOL_PATTERN
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import from_epoch
from quantdesk.models import SignalDirection, SignalStatus
from quantdesk.signals.cache import latest_answer
from quantdesk.signals.repository import SignalFilter
from quantdesk.signals.schemas import (
    RefreshMeta,
    SignalRead,
    SignalRefresh,
    SignalRefreshResponse,
    SignalResponse,
    SignalStatsRead,
    SignalStatsResponse,
    StatsMeta,
)
from quantdesk.signals.service import signal_service

router = APIRouter(prefix="/signals", tags=["signals"])
READ = Depends(require(Scope.READ_TICKERS))

SymbolQuery = Annotated[
    str | None, Query(pattern=SYMBOL_PATTERN, description="Only this instrument, e.g. GOOG")
]
StrategyQuery = Annotated[
    str | None, Query(max_length=64, description="Only this strategy, e.g. rsi_reversal")
]
MinConfidence = Annotated[float | None, Query(ge=0, le=100, description="Confidence at least")]
Since = Annotated[
    Instant | None, Query(description="Created at or after (ISO-8601 with a timezone)")
]
Cursor = Annotated[str | None, Query(max_length=256, description="meta.next_cursor of a page")]
Limit = Annotated[int, Query(ge=1, le=500)]


def _utc(value: datetime | None) -> datetime | None:
    # Naive query times mean UTC (as everywhere in the API).
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _page(rows: list[SignalRead], next_cursor: str | None) -> Page[SignalRead]:
    return Page[SignalRead](data=rows, meta=ListMeta(count=len(rows), next_cursor=next_cursor))


@router.get(
    "",
    response_model=Page[SignalRead],
    dependencies=[READ],
    description="Signals, newest first, with cursor pagination.",
)
async def list_signals(
    session: SessionDep,
    symbol: SymbolQuery = None,
    timeframe: Timeframe | None = None,
    strategy: StrategyQuery = None,
    direction: SignalDirection | None = None,
    status: SignalStatus | None = None,
    min_confidence: MinConfidence = None,
    since: Since = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[SignalRead]:
    filters = SignalFilter(
        symbol=symbol.upper() if symbol else None,
        timeframe=timeframe.value if timeframe else None,
        strategy=strategy,
        direction=direction,
        status=status,
        min_confidence=min_confidence,
        created_since=_utc(since),
    )
    rows, next_cursor = await signal_service.search(
        session, filters=filters, cursor=cursor, limit=limit
    )
    return _page([SignalRead.of(row) for row in rows], next_cursor)


@router.get(
    "/latest",
    response_model=Page[SignalRead],
    dependencies=[READ],
    description=(
        "The newest signal of each instrument, timeframe and strategy (whatever its status), "
        "newest source bar first. Cached for 60 s (never served stale); new signals, settled "
        "signals and new bars for the symbol invalidate it. `X-Cache` says `hit` or `miss`."
    ),
)
async def latest_signals(
    request: Request,
    symbol: SymbolQuery = None,
    timeframe: Timeframe | None = None,
    direction: SignalDirection | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    filters = SignalFilter(
        symbol=symbol.upper() if symbol else None,
        timeframe=timeframe.value if timeframe else None,
        direction=direction,
    )
    # Database and cache from app.state: a miss reads in its own unit of work.
    state = app_state(request.app)
    page, status = await latest_answer(state.db, state.cache, filters=filters, limit=limit)
    return Response(
        orjson.dumps(page), media_type="application/json", headers={CACHE_HEADER: status.value}
    )


@router.get(
    "/historic",
    response_model=Page[SignalRead],
    dependencies=[PUBLIC, Depends(policy("signals-historic"))],
    description=(
        "Public, delayed feed: signals created at least `signals_historic_delay_hours` "
        "(default 24) ago, newest first. No sign-in needed; limited per client IP."
    ),
)
async def historic_signals(
    session: SessionDep,
    settings: SettingsDep,
    symbol: SymbolQuery = None,
    strategy: StrategyQuery = None,
    direction: SignalDirection | None = None,
    status: SignalStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[SignalRead]:
    filters = SignalFilter(
        symbol=symbol.upper() if symbol else None,
        strategy=strategy,
        direction=direction,
        status=status,
    )
    rows, next_cursor = await signal_service.historic(
        session,
        filters=filters,
        delay=timedelta(hours=settings.signals_historic_delay_hours),
        cursor=cursor,
        limit=limit,
    )
    return _page([SignalRead.of(row) for row in rows], next_cursor)


@router.post(
    "/refresh",
    response_model=SignalRefreshResponse,
    dependencies=[Depends(require(Scope.RUN_BACKTEST)), Depends(policy("signals-refresh"))],
    description=(
        "Run every strategy on the symbol's last closed bar now and store what fires "
        "(idempotent: a bar's signals are stored once). Answers every signal of that bar. "
        "Needs the `run:backtest` scope (signed-in users from the `user` role up; not "
        "guests) and has its own strict per-user limit."
    ),
)
async def refresh_signals(
    session: SessionDep, settings: SettingsDep, body: SignalRefresh
) -> SignalRefreshResponse:
    result = await signal_service.refresh(
        session, symbol=body.symbol, timeframe=body.timeframe, settings=settings
    )
    data = [SignalRead.of(signal) for signal in result.signals]
    return SignalRefreshResponse(
        data=data,
        meta=RefreshMeta(
            count=len(data),
            symbol=result.symbol,
            timeframe=result.timeframe,
            created=result.created,
            source_bar_at=from_epoch(result.source_ts) if result.source_ts is not None else None,
        ),
    )


STATS_HINT = (
    "No signals{scope} yet. Compute them over the stored history with `quantdesk signals "
    "backfill` (`quantdesk demo load` does it for the demo data); `quantdesk signals generate` "
    "adds the signals of the latest bar, and `quantdesk signals evaluate` settles them."
)


@router.get(
    "/stats",
    response_model=SignalStatsResponse,
    dependencies=[READ],
    description=(
        "Track record per strategy, symbol and timeframe: signal counts by status and, over "
        "the settled ones, hit rate (share with a positive return), average return and "
        "average bars held. Same policy as `GET /signals` (`read:tickers`): it is computed "
        "from every signal, recent ones included. Empty: `meta.hint` says how to get signals."
    ),
)
async def signal_stats(
    session: SessionDep,
    symbol: SymbolQuery = None,
    strategy: StrategyQuery = None,
    timeframe: Timeframe | None = None,
) -> SignalStatsResponse:
    filters = SignalFilter(
        symbol=symbol.upper() if symbol else None,
        timeframe=timeframe.value if timeframe else None,
        strategy=strategy,
    )
    rows = [SignalStatsRead.of(row) for row in await signal_service.stats(session, filters=filters)]
    filtered = symbol is not None or strategy is not None or timeframe is not None
    hint = None if rows else STATS_HINT.format(scope=" match these filters" if filtered else "")
    meta = StatsMeta(count=len(rows), signals=sum(row.count for row in rows), hint=hint)
    return SignalStatsResponse(data=rows, meta=meta)


@router.get("/{signal_id}", response_model=SignalResponse, dependencies=[READ])
async def get_signal(
    session: SessionDep, signal_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> SignalResponse:
    return SignalResponse(data=SignalRead.of(await signal_service.get(session, signal_id)))
