"""Market-data endpoints: thin, one service call each."""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from quantdesk.access.scopes import Scope
from quantdesk.auth.dependencies import require
from quantdesk.dependencies import ReadSessionDep, SettingsDep
from quantdesk.errors import Unprocessable, field_error
from quantdesk.http.negotiation import negotiate_or_406
from quantdesk.infra.cache.dependencies import CACHE_HEADER
from quantdesk.kit.app_state import app_state
from quantdesk.kit.pagination import ListMeta, Page
from quantdesk.kit.schemas import Instant
from quantdesk.kit.symbols import SYMBOL_PATTERN
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import from_epoch, to_epoch
from quantdesk.marketdata.bars_cache import BarsQuery, bars_answer, bars_body
from quantdesk.marketdata.quote_service import quote_service
from quantdesk.marketdata.replay.service import replayed_quote_answer
from quantdesk.marketdata.schemas import (
    BarsResponse,
    InstrumentDetail,
    InstrumentDetailResponse,
    InstrumentRead,
    QuoteResponse,
    TimeframeCoverageRead,
)
from quantdesk.marketdata.service import instrument_service
from quantdesk.models import AssetClass

# Market data needs read:tickers, which every role has, anonymous guests included (they are
# rate-limited per IP); other scopes guard premium data.
router = APIRouter(tags=["market data"], dependencies=[Depends(require(Scope.READ_TICKERS))])

Symbol = Annotated[str, Path(pattern=SYMBOL_PATTERN, description="Ticker symbol, e.g. GOOG")]
JSON = "application/json"
CSV = "text/csv"


# First: routing tries routes in order, and the quote is the most requested read.
@router.get(
    "/quotes/{symbol}",
    response_model=QuoteResponse,
    description=(
        "The latest quote, cached (30 s fresh, then served stale for up to 5 min while one "
        "refresh runs; new bars for the symbol invalidate it). `X-Cache` and `meta.cache` say "
        "`hit`, `miss` or `stale`. With a quotes provider chain configured "
        "(`QUANTDESK_PROVIDERS_QUOTES`) a miss asks the chain and stores its answer; when "
        "every provider fails, the stored quote answers with their `fallback_trace`. "
        "`provider` names one provider of that chain: it answers or its error is the answer. "
        "While a market replay of the symbol runs (POST /admin/replay), the last replayed "
        "bar's close answers, with `meta.replay` {replay_id, ts} and `data.source` `replay`."
    ),
)
async def get_quote(
    request: Request,
    symbol: Symbol,
    provider: Annotated[
        str | None,
        Query(max_length=64, description="A provider of the quotes chain; no fallback"),
    ] = None,
) -> Response:
    # Database, cache and providers from app.state rather than dependencies: a cache hit is
    # this endpoint's whole work, and each dependency node costs more than the hit itself.
    state = app_state(request.app)
    replayed = state.replay.quote(symbol) if state.replay.current is not None else None
    if replayed is not None:
        body = orjson.dumps(replayed_quote_answer(replayed))
        return Response(body, media_type=JSON, headers={CACHE_HEADER: "miss"})
    answer, status = await quote_service.answer(
        state.db,
        state.cache,
        symbol,
        providers=getattr(state, "providers", None),
        provider=provider,
    )
    meta = {**answer["meta"], "cache": status.value}
    return Response(
        orjson.dumps({"data": answer["data"], "meta": meta}),
        media_type=JSON,
        headers={CACHE_HEADER: status.value},
    )


@router.get("/instruments", response_model=Page[InstrumentRead])
async def list_instruments(
    session: ReadSessionDep,
    settings: SettingsDep,
    asset_class: AssetClass | None = None,
    exchange: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[
        str | None, Query(max_length=64, description="Substring of symbol or name")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[InstrumentRead]:
    rows, next_cursor = await instrument_service.search(
        session, asset_class=asset_class, exchange=exchange, query=q, cursor=cursor, limit=limit
    )
    data = [InstrumentRead.model_validate(row) for row in rows]
    return Page[InstrumentRead](data=data, meta=ListMeta(count=len(data), next_cursor=next_cursor))


@router.get("/instruments/{symbol}", response_model=InstrumentDetailResponse)
async def get_instrument(session: ReadSessionDep, symbol: Symbol) -> InstrumentDetailResponse:
    instrument = await instrument_service.get(session, symbol)
    coverage = await instrument_service.coverage(session, instrument)
    detail = InstrumentDetail(
        **InstrumentRead.model_validate(instrument).model_dump(),
        coverage=[
            TimeframeCoverageRead(
                timeframe=c.timeframe,
                bars=c.count,
                first=from_epoch(c.first_ts),
                last=from_epoch(c.last_ts),
            )
            for c in coverage
        ],
    )
    return InstrumentDetailResponse(data=detail)


@router.get(
    "/bars/{symbol}",
    response_model=BarsResponse,
    responses={200: {"content": {CSV: {"schema": {"type": "string"}}}}},
    description=(
        "OHLCV bars, oldest first. Without `start`, the latest `limit` bars up to `end`. A "
        "timeframe coarser than the stored one is resampled on the fly (open first, high max, "
        "low min, close last, volume sum; weeks start Monday 00:00 UTC, months on the 1st). "
        "Stored weekly and monthly bars are stamped at their period's start too. Without "
        "`timeframe`, the finest timeframe stored for the symbol. `meta.stale` and "
        "`meta.age_seconds` age the last bar against the wall clock (README, Freshness). "
        "`format=columns` returns `{t, o, h, l, c, v}` arrays; `Accept: text/csv` returns CSV "
        "(q-values honoured, JSON preferred on a tie, 406 when neither is acceptable). "
        "Cached per query (60 s fresh, then served stale for up to 1 h while one refresh "
        "runs; new bars for the symbol invalidate it): `X-Cache` and `meta.cache` say `hit`, "
        "`miss` or `stale`."
    ),
)
async def get_bars(
    request: Request,
    settings: SettingsDep,
    symbol: Symbol,
    timeframe: Annotated[
        Timeframe | None, Query(description="Default: the finest timeframe stored for the symbol")
    ] = None,
    start: Annotated[
        Instant | None, Query(description="Inclusive, ISO-8601 with a timezone")
    ] = None,
    end: Annotated[Instant | None, Query(description="Inclusive, ISO-8601 with a timezone")] = None,
    limit: Annotated[int | None, Query(ge=1, description="Default 5000; maximum 100000")] = None,
    format: Literal["rows", "columns"] = "rows",
    time_format: Annotated[
        Literal["iso", "unix"] | None,
        Query(description="Default: iso for rows and CSV, unix for columns"),
    ] = None,
) -> Response:
    limit = _bounded_limit(limit, settings.bars_default_limit, settings.bars_max_limit)
    start_ts = to_epoch(start) if start else None
    end_ts = to_epoch(end) if end else None
    if start_ts is not None and end_ts is not None and start_ts > end_ts:
        raise Unprocessable(
            "start is after end", errors=[field_error(["query", "start"], "must not be after end")]
        )
    csv = negotiate_or_406(request.headers.get("accept"), (JSON, CSV)) == CSV
    query = BarsQuery(
        symbol=symbol,
        timeframe=timeframe,
        start=start_ts,
        end=end_ts,
        limit=limit,
        shape=format,
        time_format=time_format or ("unix" if format == "columns" and not csv else "iso"),
        csv=csv,
    )
    # Database and cache from app.state: a miss reads in its own unit of work (see get_quote).
    state = app_state(request.app)
    answer, status = await bars_answer(state.db, state.cache, query)
    if csv:
        disposition = f'attachment; filename="{answer["filename"]}"'
        headers = {"Content-Disposition": disposition, CACHE_HEADER: status.value}
        return Response(answer["body"], media_type=CSV, headers=headers)
    body = bars_body(answer, status)
    return Response(body, media_type=JSON, headers={CACHE_HEADER: status.value})


def _bounded_limit(limit: int | None, default: int, maximum: int) -> int:
    if limit is None:
        return default
    if limit > maximum:
        raise Unprocessable(
            f"limit {limit} is over the maximum of {maximum}",
            errors=[
                field_error(
                    ["query", "limit"], f"must be at most {maximum}", kind="less_than_equal"
                )
            ],
        )
    return limit
