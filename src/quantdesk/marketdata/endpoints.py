"""Market-data endpoints: thin, one service call each."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import numpy as np
import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from quantdesk.auth.dependencies import require
from quantdesk.auth.scopes import Scope
from quantdesk.dependencies import SessionDep, SettingsDep
from quantdesk.errors import Unprocessable, field_error
from quantdesk.infra.cache.endpoints import CACHE_HEADER
from quantdesk.kit.pagination import ListMeta, Page
from quantdesk.kit.symbols import SYMBOL_PATTERN
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import epochs_to_iso, from_epoch, to_epoch
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.schemas import (
    BarsResponse,
    InstrumentDetail,
    InstrumentDetailResponse,
    InstrumentRead,
    QuoteResponse,
    TimeframeCoverageRead,
)
from quantdesk.marketdata.service import BarSeries, bar_service, instrument_service, quote_service
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
        "`provider` names one provider of that chain: it answers or its error is the answer."
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
    state = request.app.state
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
    session: SessionDep,
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
async def get_instrument(session: SessionDep, symbol: Symbol) -> InstrumentDetailResponse:
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
        "`format=columns` returns `{t, o, h, l, c, v}` arrays; `Accept: text/csv` returns CSV."
    ),
)
async def get_bars(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    symbol: Symbol,
    timeframe: Timeframe = Timeframe.D1,
    start: Annotated[
        datetime | None, Query(description="Inclusive, ISO-8601 (naive = UTC)")
    ] = None,
    end: Annotated[datetime | None, Query(description="Inclusive, ISO-8601 (naive = UTC)")] = None,
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
    series = await bar_service.get_bars(
        session, symbol=symbol, timeframe=timeframe, start=start_ts, end=end_ts, limit=limit
    )
    if CSV in request.headers.get("accept", ""):
        return Response(_bars_csv(series), media_type=CSV, headers=_csv_headers(series))
    time_format = time_format or ("unix" if format == "columns" else "iso")
    return Response(_bars_json(series, format, time_format), media_type=JSON)


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


def _bars_json(series: BarSeries, shape: Literal["rows", "columns"], time_format: str) -> bytes:
    # Serialized by hand with orjson, columns straight from numpy: validating 100k rows
    # through a response_model would cost more than reading them (the documented schema is
    # BarsResponse).
    bars = series.bars
    times: Any = bars.ts if time_format == "unix" else epochs_to_iso(bars.ts)
    meta = {
        "symbol": series.symbol,
        "timeframe": series.timeframe.value,
        "source_timeframe": series.source_timeframe.value,
        "resampled": series.resampled,
        "count": len(bars),
        "format": shape,
        "time_format": time_format,
    }
    data: Any
    if shape == "columns":
        data = dict(zip(("t", "o", "h", "l", "c", "v"), (times, *bars.columns()[1:]), strict=True))
    else:
        keys = ("ts", "open", "high", "low", "close", "volume")
        values = (times if isinstance(times, list) else times.tolist(), *_lists(bars)[1:])
        data = [dict(zip(keys, row, strict=True)) for row in zip(*values, strict=True)]
    return orjson.dumps(
        {"data": data, "meta": meta}, option=orjson.OPT_SERIALIZE_NUMPY, default=_strided_array
    )


def _strided_array(value: Any) -> Any:
    # orjson serializes C-contiguous arrays natively and hands anything else to `default`.
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot serialize {type(value).__name__}")


def _lists(bars: BarFrame) -> list[list[Any]]:
    return [column.tolist() for column in bars.columns()]


def _bars_csv(series: BarSeries) -> str:
    ts, *prices = _lists(series.bars)
    lines = ["timestamp,open,high,low,close,volume"]
    lines.extend(
        f"{t},{o!r},{h!r},{lo!r},{c!r},{v!r}"
        for t, o, h, lo, c, v in zip(epochs_to_iso(ts), *prices, strict=True)
    )
    return "\n".join(lines) + "\n"


def _csv_headers(series: BarSeries) -> dict[str, str]:
    name = f"{series.symbol}_{series.timeframe.value}.csv"
    return {"Content-Disposition": f'attachment; filename="{name}"'}
