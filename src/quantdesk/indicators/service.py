"""Compute indicator sets over a symbol's bars, with enough history before the window that
the first returned value equals what the series would show there (no cold-start artefacts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.db import Database
from quantdesk.engine.indicators.registry import IndicatorSpec, compute, parse_indicator_set
from quantdesk.errors import Unprocessable, field_error
from quantdesk.infra.cache import Cache, CacheCategory, CacheStatus, symbol_tag
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import epochs_to_iso
from quantdesk.marketdata.bars_cache import cacheable_json
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.service import bar_service

# Recursive indicators (EMA, RSI, ATR, ADX) forget their seed geometrically, by (1 - 1/p) per
# bar for Wilder smoothing: 30 periods of history bring it below 1e-12 relative, so a window
# equals the full-history values to TA-Lib's own precision.
WARMUP_PERIODS = 30
MAX_WARMUP_BARS = 20_000


@dataclass(frozen=True)
class IndicatorSeries:
    symbol: str
    timeframe: Timeframe
    specs: list[IndicatorSpec]
    bars: BarFrame
    values: dict[str, npt.NDArray[np.float64]]


def parse_set(text: str) -> list[IndicatorSpec]:
    try:
        return parse_indicator_set(text)
    except ValueError as exc:
        raise Unprocessable(str(exc), errors=[field_error(["query", "set"], str(exc))]) from exc


def _warmup_bars(specs: list[IndicatorSpec]) -> int:
    longest = max((int(p) for spec in specs for p in spec.params if p is not None), default=1)
    return min(MAX_WARMUP_BARS, WARMUP_PERIODS * longest + 10)


class IndicatorService:
    async def answer(
        self,
        database: Database,
        cache: Cache,
        *,
        symbol: str,
        timeframe: Timeframe,
        specs: list[IndicatorSpec],
        start: int | None,
        end: int | None,
        limit: int,
    ) -> tuple[str, CacheStatus]:
        """The JSON answer up to its cache status (complete it with `with_cache_status`),
        through the indicators cache. A miss computes in its own unit of work, once however
        many callers ask; new bars for the symbol drop every entry of it (`new_bars_tags`)."""
        symbol = symbol.upper()
        # Every resolved parameter, skipped ones too: `str(spec)` leaves out None values.
        names = ",".join(f"{spec.name}{list(spec.params)}" for spec in specs)
        bounds = "|".join("" if bound is None else str(bound) for bound in (start, end))
        key = f"{symbol}|{timeframe.value}|{names}|{bounds}|{limit}"

        async def encoded() -> str:
            async with database.replica.session() as session:  # reads only: the replica
                series = await self.compute(
                    session,
                    symbol=symbol,
                    timeframe=timeframe,
                    specs=specs,
                    start=start,
                    end=end,
                    limit=limit,
                )
            return _encode(series)

        return await cache.get_or_compute(
            CacheCategory.INDICATORS,
            key,
            encoded,
            tags=[symbol_tag(CacheCategory.INDICATORS, symbol)],
        )

    async def compute(
        self,
        session: AsyncSession,
        *,
        symbol: str,
        timeframe: Timeframe,
        specs: list[IndicatorSpec],
        start: int | None,
        end: int | None,
        limit: int,
    ) -> IndicatorSeries:
        warmup = _warmup_bars(specs)
        if start is None:
            latest = await bar_service.get_bars(
                session,
                symbol=symbol,
                timeframe=timeframe,
                start=None,
                end=end,
                limit=limit + warmup,
            )
            name, bars = latest.symbol, latest.bars
            keep_from = max(0, len(bars) - limit)
        else:
            history = await bar_service.get_bars(
                session, symbol=symbol, timeframe=timeframe, start=None, end=start - 1, limit=warmup
            )
            window = await bar_service.get_bars(
                session, symbol=symbol, timeframe=timeframe, start=start, end=end, limit=limit
            )
            name, keep_from = window.symbol, len(history.bars)
            bars = BarFrame.from_columns(
                [
                    np.concatenate((before, inside))
                    for before, inside in zip(
                        history.bars.columns(), window.bars.columns(), strict=True
                    )
                ]
            )
        values: dict[str, npt.NDArray[np.float64]] = {}
        for spec in specs:
            outputs = compute(spec, bars.open, bars.high, bars.low, bars.close, bars.volume)
            for column_name, column in outputs.items():
                values[column_name] = column[keep_from:]
        return IndicatorSeries(name, timeframe, specs, bars.slice(keep_from, len(bars)), values)


def _encode(series: IndicatorSeries) -> str:
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
    return cacheable_json(data, meta)


indicator_service = IndicatorService()
