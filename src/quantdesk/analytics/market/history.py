"""Reading every instrument's recent daily bars at once, straight into numpy.

The refresh reads ~261 bars for each of possibly 10,000+ instruments. Row objects (ORM, Core
or even driver tuples turned into Python floats) would cost several times the query, so, as
`GET /bars` does (marketdata/repository.py): on SQLite the rows stream from the cursor into
one float64 buffer in aiosqlite's thread; on PostgreSQL they come through binary COPY, parsed
by numpy as fixed-width records.

Only closes are needed over the whole window (the indicators); open, high, low and volume only
for the last session. So two reads: (instrument, ts, close) over the window, and the full bars
of each instrument's last few bars (`TAIL`); sending four unused columns for 2.6 M bars was
half of the refresh's time.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

from quantdesk.marketdata.frames import BarFrame

TAIL = 5  # full bars per instrument: the last complete one is among them
_FULL = ("ts", "open", "high", "low", "close", "volume")
_CLOSES = ("ts", "close")
# SQLite: one index probe per instrument for where its window starts (materialized, so it is
# not re-run per bar), then one range read each; -2**62 = "from the first bar" when there are
# fewer bars than the window.
_WINDOW = (
    "WITH starts AS MATERIALIZED (SELECT i.id AS iid, COALESCE((SELECT b.ts FROM bars b "
    "WHERE b.instrument_id = i.id AND b.timeframe = '1d' ORDER BY b.ts DESC LIMIT 1 "
    "OFFSET ? - 1), -4611686018427387904) AS since FROM instruments i WHERE i.active) "
    "SELECT b.instrument_id, :columns FROM bars b "
    "JOIN starts s ON b.instrument_id = s.iid WHERE b.timeframe = '1d' AND b.ts >= s.since"
)
# PostgreSQL walks each instrument's index once, newest first (LATERAL ... LIMIT).
_WINDOW_POSTGRES = (
    "SELECT i.id::int8 AS instrument_id, :columns FROM instruments i CROSS JOIN LATERAL "
    "(SELECT * FROM bars WHERE instrument_id = i.id AND timeframe = '1d' "
    "ORDER BY ts DESC LIMIT $1) AS b WHERE i.active"
)


def window_sql(postgres: bool, columns: tuple[str, ...]) -> str:
    """The last `count` (the one parameter) daily bars of each active instrument, as
    (instrument_id, *columns). No ORDER BY: `ordered` checks the order the rows came in and
    sorts only if it must, for a fraction of a database sort's cost."""
    listed = ", ".join(f"b.{column}" for column in columns)
    return (_WINDOW_POSTGRES if postgres else _WINDOW).replace(":columns", listed)


def _grouped_ascending(table: npt.NDArray[np.float64]) -> bool:
    """Each instrument's rows contiguous (one block each) and its ts strictly ascending."""
    ids, ts = table[:, 0], table[:, 1]
    same = np.diff(ids) == 0
    if not bool(np.all(~same | (np.diff(ts) > 0))):
        return False
    block_ids = ids[np.concatenate(([0], np.flatnonzero(~same) + 1))]
    return len(set(block_ids.tolist())) == len(block_ids)


def ordered(table: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The (rows, k) table grouped by instrument with ts ascending, without a sort when it
    already is or is exactly the reverse (PostgreSQL's read: newest first per instrument)."""
    if len(table) < 2:
        return table
    for candidate in (table, table[::-1]):
        if _grouped_ascending(candidate):
            return candidate
    return table[np.lexsort((table[:, 1], table[:, 0]))]


def _blocks(table: npt.NDArray[np.float64]) -> tuple[list[int], list[int], list[int]]:
    ids = table[:, 0].astype(np.int64)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(ids)) + 1))
    ends = np.concatenate((starts[1:], [len(ids)]))
    return ids[starts].tolist(), starts.tolist(), ends.tolist()


def split(
    closes: npt.NDArray[np.float64], tail: npt.NDArray[np.float64] | None = None
) -> dict[int, BarFrame]:
    """(instrument, ts, close) rows over the window and (instrument, ts, open, high, low,
    close, volume) rows of the last bars -> one BarFrame per instrument, ts ascending, with
    open/high/low/volume filled where the tail has them (NaN elsewhere: never read).
    A 7-column `closes` table alone (tests) is split as full bars."""
    if closes.size == 0:
        return {}
    if tail is None:
        tail = closes
        closes = closes[:, [0, 1, 5]]
    closes, tail = ordered(closes), ordered(tail)
    ts_all = closes[:, 1].astype(np.int64)
    close_all = np.ascontiguousarray(closes[:, 2])
    full: dict[int, npt.NDArray[np.float64]] = {}
    for iid, a, b in zip(*_blocks(tail), strict=True):
        full[iid] = tail[a:b]
    frames: dict[int, BarFrame] = {}
    for iid, a, b in zip(*_blocks(closes), strict=True):
        ts = ts_all[a:b]
        others = np.full((4, b - a), np.nan)
        last = full.get(iid)
        if last is not None:
            at = np.searchsorted(ts, last[:, 1].astype(np.int64))
            found = (at < len(ts)) & (ts[np.minimum(at, len(ts) - 1)] == last[:, 1])
            others[:, at[found]] = last[found][:, [2, 3, 4, 6]].T
        frames[iid] = BarFrame(ts, others[0], others[1], others[2], close_all[a:b], others[3])
    return frames


async def sqlite_table(
    driver: Any, sql: str, params: list[Any], width: int
) -> npt.NDArray[np.float64]:

    def to_table(rows: Any) -> npt.NDArray[np.float64]:
        return np.fromiter(chain.from_iterable(rows), dtype=np.float64).reshape(-1, width)

    run_in_connection_thread = getattr(driver, "_execute", None)
    raw = getattr(driver, "_conn", None)
    if run_in_connection_thread is not None and raw is not None:
        table: npt.NDArray[np.float64] = await run_in_connection_thread(
            lambda: to_table(raw.execute(sql, params))
        )
        return table
    cursor = await driver.execute(sql, params)  # aiosqlite without its private hook
    try:
        return to_table(await cursor.fetchall())
    finally:
        await cursor.close()


# Binary COPY: a 19-byte header, then per row a 2-byte field count and, per field, a 4-byte
# length and the value (all 8 bytes wide here: ids cast to int8; bars have no NULLs), then a
# 2-byte trailer. Fixed-width rows, so numpy reads the whole stream as one structured array.
_COPY_HEADER, _COPY_TRAILER = 19, 2


def _copy_row(columns: tuple[str, ...]) -> np.dtype[Any]:
    names = ("instrument_id", *columns)
    return np.dtype(
        [("count", ">i2")]
        + [
            field
            for name in names
            for field in (
                (f"{name}_len", ">i4"),
                (name, ">i8" if name in ("instrument_id", "ts") else ">f8"),
            )
        ]
    )


async def postgres_table(
    driver: Any, sql: str, params: list[Any], columns: tuple[str, ...]
) -> npt.NDArray[np.float64]:
    """The rows through binary COPY into one buffer: no Record, tuple or float per value."""
    chunks: list[bytes] = []

    async def collect(chunk: bytes) -> None:
        chunks.append(bytes(chunk))

    await driver.copy_from_query(sql, *params, output=collect, format="binary")
    body = b"".join(chunks)[_COPY_HEADER:-_COPY_TRAILER]
    rows = np.frombuffer(body, dtype=_copy_row(columns))
    names = ("instrument_id", *columns)
    if not rows.size:
        return np.empty((0, len(names)))
    return np.column_stack([rows[name].astype(np.float64) for name in names])


async def read_daily(driver: Any, postgres: bool, sessions: int) -> dict[int, BarFrame]:
    """Each active instrument's last `sessions` + 1 daily bars."""

    async def read(columns: tuple[str, ...], count: int) -> npt.NDArray[np.float64]:
        sql = window_sql(postgres, columns)
        if postgres:
            return await postgres_table(driver, sql, [count], columns)
        return await sqlite_table(driver, sql, [count], 1 + len(columns))

    closes = await read(_CLOSES, sessions + 1)
    if closes.size == 0:
        return {}
    return split(closes, await read(_FULL, TAIL))
