"""GET /indicators/{symbol}: indicator columns beside bar times."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import numpy as np
import orjson
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from quantdesk.auth.dependencies import require
from quantdesk.auth.scopes import Scope
from quantdesk.dependencies import SessionDep, SettingsDep
from quantdesk.errors import Unprocessable, field_error
from quantdesk.indicators.service import indicator_service, parse_set
from quantdesk.kit.symbols import SYMBOL_PATTERN
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import epochs_to_iso, to_epoch

router = APIRouter(tags=["indicators"], dependencies=[Depends(require(Scope.READ_TICKERS))])


@router.get(
    "/indicators/{symbol}",
    description=(
        "Indicators computed over stored (or resampled) bars, e.g. "
        "`set=rsi:14,macd:12:26:9,bbands:20:2`. Values match TA-Lib, warm-up included: each "
        "window is computed with extra history before it, and values still in warm-up are "
        "null. Columns: `t` (ISO-8601 bar open times) and one array per output "
        "(`rsi_14`, `macd_12_26_9`, `macd_signal_12_26_9`, ...)."
    ),
)
async def get_indicators(
    session: SessionDep,
    settings: SettingsDep,
    symbol: Annotated[str, Path(pattern=SYMBOL_PATTERN)],
    indicator_set: Annotated[
        str, Query(alias="set", min_length=1, max_length=512, description="name:arg:arg,...")
    ],
    timeframe: Timeframe = Timeframe.D1,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 500,
) -> Response:
    start_ts = to_epoch(start) if start else None
    end_ts = to_epoch(end) if end else None
    if start_ts is not None and end_ts is not None and start_ts > end_ts:
        raise Unprocessable(errors=[field_error(["query", "start"], "must not be after end")])
    series = await indicator_service.compute(
        session,
        symbol=symbol,
        timeframe=timeframe,
        specs=parse_set(indicator_set),
        start=start_ts,
        end=end_ts,
        limit=limit,
    )
    data: dict[str, Any] = {"t": epochs_to_iso(series.bars.ts)}
    for name, values in series.values.items():
        # NaN is not JSON: warm-up values become null.
        data[name] = [None if np.isnan(v) else v for v in values.tolist()]
    meta = {
        "symbol": series.symbol,
        "timeframe": series.timeframe.value,
        "set": [str(spec) for spec in series.specs],
        "count": len(series.bars),
    }
    return Response(orjson.dumps({"data": data, "meta": meta}), media_type="application/json")
