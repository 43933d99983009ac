"""GET /bars answers through the bars cache, encoded once per key.

A cached answer is the encoded body, not the bars: a hit then costs a lookup and a copy, not
a serialization of up to 100k rows. The JSON `meta.stale`, `meta.age_seconds` (against the
wall clock, `marketdata.freshness`) and `meta.cache` differ per call, so the body is cached up
to those values and completed per response (`bars_body`). Values are JSON-shaped
(`{"body": str, ...}`) so they round-trip through the Redis backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypedDict

import numpy as np
import orjson

from quantdesk.db import Database
from quantdesk.infra.cache import Cache, CacheCategory, CacheStatus, symbol_tag
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import epochs_to_iso
from quantdesk.marketdata import freshness
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.service import BarSeries, bar_service

# Stored bars do not record which provider delivered each row: the answer names the store.
STORE_PROVIDER = "store"
_OPEN_SLOT = '"cache":'
_EMPTY_SLOT = _OPEN_SLOT + '""}}'

Shape = Literal["rows", "columns"]
TimeFormat = Literal["iso", "unix"]


class BarsAnswer(TypedDict):
    """What the bars cache holds for a query: the encoded body (CSV text, or JSON cut before
    its freshness and cache fields) and what `bars_body` needs to age it."""

    body: str
    filename: str  # the CSV attachment's name
    as_of: int | None  # open time (Unix seconds) of the newest bar; None without bars
    interval: int  # seconds between expected bars (marketdata.freshness)
    weekends: bool


def cacheable_json(data: Any, meta: dict[str, Any]) -> str:
    """`{"data": data, "meta": {**meta, "cache": ...}}` encoded up to the cache status."""
    text = orjson.dumps(
        {"data": data, "meta": {**meta, "cache": ""}},
        option=orjson.OPT_SERIALIZE_NUMPY,
        default=_strided_array,
    ).decode()
    # orjson keeps insertion order: `cache` is the last key of `meta`, the last key.
    assert text.endswith(_EMPTY_SLOT)
    return text[: -len(_EMPTY_SLOT)] + _OPEN_SLOT


def with_cache_status(head: str, status: CacheStatus) -> bytes:
    """The body `cacheable_json` encoded, with `meta.cache` set to `status`."""
    return f'{head}"{status.value}"}}}}'.encode()


def bars_body(answer: BarsAnswer, status: CacheStatus) -> bytes:
    """The JSON body `bars_answer` cached, completed with `meta.stale`, `meta.age_seconds`
    (null without bars) and `meta.cache` as of now."""
    if answer["as_of"] is None:
        stale, age = "null", "null"
    else:
        found = freshness.freshness(
            answer["as_of"],
            interval=answer["interval"],
            weekends=answer["weekends"],
            now=freshness.wall_clock(),
        )
        stale, age = ("true" if found.stale else "false"), str(found.age_seconds)
    tail = f'"stale":{stale},"age_seconds":{age},{_OPEN_SLOT}"{status.value}"}}}}'
    return f"{answer['body']}{tail}".encode()


@dataclass(frozen=True, slots=True)
class BarsQuery:
    symbol: str
    timeframe: Timeframe | None  # None: the finest stored timeframe
    start: int | None
    end: int | None
    limit: int
    shape: Shape
    time_format: TimeFormat
    csv: bool

    @property
    def key(self) -> str:
        start = "" if self.start is None else self.start
        end = "" if self.end is None else self.end
        kind = "csv" if self.csv else "json"
        timeframe = "" if self.timeframe is None else self.timeframe.value
        return (
            f"{self.symbol.upper()}|{timeframe}|{start}|{end}|{self.limit}"
            f"|{self.shape}|{self.time_format}|{kind}"
        )


async def bars_answer(
    database: Database, cache: Cache, query: BarsQuery
) -> tuple[BarsAnswer, CacheStatus]:
    """The `BarsAnswer` for the query
    through the bars cache: CSV text, or JSON up to its freshness (`bars_body`). Tagged with
    the symbol's bars tag, so committed new bars drop it (`new_bars_tags`): the default
    timeframe (finest stored) is resolved inside, and cached with the answer."""

    async def compute() -> BarsAnswer:
        # Its own unit of work: every concurrent caller of a cold key waits on this one. On
        # the read replica when one is set (new bars drop the entry; a lagging replica's
        # answer is fresh for at most the category's TTL).
        async with database.replica.session() as session:
            series = await bar_service.get_bars(
                session,
                symbol=query.symbol,
                timeframe=query.timeframe,
                start=query.start,
                end=query.end,
                limit=query.limit,
            )
        bars = series.bars
        if query.csv:
            body = bars_csv(series, query.time_format)
        else:
            # Cut before `"cache":`: bars_body writes stale and age_seconds first.
            body = bars_json(series, query.shape, query.time_format)[: -len(_OPEN_SLOT)]
        return {
            "body": body,
            "filename": f"{series.symbol}_{series.timeframe.value}.csv",
            "as_of": int(bars.ts[-1]) if len(bars) else None,
            "interval": freshness.bars_interval(series.asset_class, series.timeframe),
            "weekends": freshness.trades_weekends(series.asset_class),
        }

    return await cache.get_or_compute(
        CacheCategory.BARS,
        query.key,
        compute,
        tags=[symbol_tag(CacheCategory.BARS, query.symbol)],
    )


def bars_json(series: BarSeries, shape: Shape, time_format: TimeFormat) -> str:
    # Serialized by hand with orjson, columns straight from numpy: validating 100k rows
    # through a response_model would cost more than reading them (the documented schema is
    # BarsResponse).
    bars = series.bars
    times: Any = bars.ts if time_format == "unix" else epochs_to_iso(bars.ts)
    meta: dict[str, Any] = {
        "symbol": series.symbol,
        "timeframe": series.timeframe.value,
        "source_timeframe": series.source_timeframe.value,
        "resampled": series.resampled,
        "count": len(bars),
        "format": shape,
        "time_format": time_format,
        "provider": STORE_PROVIDER,
        "fallback_trace": [],
        "as_of": epochs_to_iso(bars.ts[-1:])[0] if len(bars) else None,
    }
    data: Any
    if shape == "columns":
        data = dict(zip(("t", "o", "h", "l", "c", "v"), (times, *bars.columns()[1:]), strict=True))
    else:
        keys = ("ts", "open", "high", "low", "close", "volume")
        values = (times if isinstance(times, list) else times.tolist(), *_lists(bars)[1:])
        data = [dict(zip(keys, row, strict=True)) for row in zip(*values, strict=True)]
    return cacheable_json(data, meta)


def _strided_array(value: Any) -> Any:
    # orjson serializes C-contiguous arrays natively and hands anything else to `default`.
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot serialize {type(value).__name__}")


def _lists(bars: BarFrame) -> list[list[Any]]:
    return [column.tolist() for column in bars.columns()]


def bars_csv(series: BarSeries, time_format: TimeFormat = "iso") -> str:
    ts, *prices = _lists(series.bars)
    times = ts if time_format == "unix" else epochs_to_iso(ts)
    lines = ["timestamp,open,high,low,close,volume"]
    lines.extend(
        f"{t},{o!r},{h!r},{lo!r},{c!r},{v!r}"
        for t, o, h, lo, c, v in zip(times, *prices, strict=True)
    )
    return "\n".join(lines) + "\n"
