"""Reading every instrument's recent daily bars at once, straight into numpy.

The refresh reads ~261 bars for each of possibly 10,000+ instruments. Row objects (ORM, Core
or even driver tuples turned into Python floats) would cost several times the query, so, as
`GET /bars` does (marketdata/repository.py): on SQLite the rows stream from the cursor into
one float64 buffer in aiosqlite's thread; on PostgreSQL each column comes back as one bytea of
big-endian binary values that numpy reads in place.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

from quantdesk.marketdata.frames import BarFrame

# -2**62 stands for "from the first bar" when an instrument has fewer bars than the window.
_WINDOW = (
    "WITH starts AS MATERIALIZED (SELECT i.id AS iid, COALESCE((SELECT b.ts FROM bars b "
    "WHERE b.instrument_id = i.id AND b.timeframe = '1d' ORDER BY b.ts DESC LIMIT 1 "
    "OFFSET :offset), -4611686018427387904) AS since FROM instruments i WHERE i.active) "
    "SELECT b.instrument_id, b.ts, b.open, b.high, b.low, b.close, b.volume FROM bars b "
    "JOIN starts s ON b.instrument_id = s.iid WHERE b.timeframe = '1d' AND b.ts >= s.since"
)
# PostgreSQL walks each instrument's index once, newest first (LATERAL ... LIMIT).
_WINDOW_POSTGRES = (
    "SELECT i.id::int8 AS instrument_id, b.ts, b.open, b.high, b.low, b.close, b.volume "
    "FROM instruments i CROSS JOIN LATERAL (SELECT ts, open, high, low, close, volume FROM bars "
    "WHERE instrument_id = i.id AND timeframe = '1d' ORDER BY ts DESC LIMIT $1 + 1) AS b "
    "WHERE i.active"
)
_COLUMNS = ("instrument_id", "ts", "open", "high", "low", "close", "volume")


def window_sql(postgres: bool) -> str:
    """The last `sessions` + 1 daily bars of each active instrument: one index probe per
    instrument finds where its window starts (materialized, so it is not re-run per bar), then
    one range read each. No ORDER BY: the rows come in index order, and `ordered` checks that
    (sorting only if a planner ever did otherwise) for a fraction of a database sort's cost."""
    return _WINDOW_POSTGRES if postgres else _WINDOW.replace(":offset", "?")


def _grouped_ascending(table: npt.NDArray[np.float64]) -> bool:
    """Each instrument's rows contiguous (one block each) and its ts strictly ascending."""
    ids, ts = table[:, 0], table[:, 1]
    same = np.diff(ids) == 0
    if not bool(np.all(~same | (np.diff(ts) > 0))):
        return False
    block_ids = ids[np.concatenate(([0], np.flatnonzero(~same) + 1))]
    return len(set(block_ids.tolist())) == len(block_ids)


def ordered(table: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The (rows, 7) table grouped by instrument with ts ascending, without a sort when it
    already is or is exactly the reverse (PostgreSQL's read: newest first per instrument)."""
    if len(table) < 2:
        return table
    for candidate in (table, table[::-1]):
        if _grouped_ascending(candidate):
            return candidate
    return table[np.lexsort((table[:, 1], table[:, 0]))]


def split(table: npt.NDArray[np.float64]) -> dict[int, BarFrame]:
    """A (rows, 7) table -> one BarFrame per instrument, ts ascending."""
    if table.size == 0:
        return {}
    table = ordered(table)
    ids = table[:, 0].astype(np.int64)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(ids)) + 1))
    ends = np.concatenate((starts[1:], [len(ids)]))
    columns = np.ascontiguousarray(table[:, 1:].T)  # also undoes a reversed view
    ts = columns[0].astype(np.int64)
    return {
        int(ids[a]): BarFrame(ts[a:b], *(column[a:b] for column in columns[1:]))
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
    }


async def sqlite_table(driver: Any, sql: str, params: list[Any]) -> npt.NDArray[np.float64]:
    def to_table(rows: Any) -> npt.NDArray[np.float64]:
        flat = np.fromiter(chain.from_iterable(rows), dtype=np.float64)
        return flat.reshape(-1, len(_COLUMNS))

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
_COPY_ROW = np.dtype(
    [("count", ">i2")]
    + [
        field
        for index, name in enumerate(_COLUMNS)
        for field in ((f"{name}_len", ">i4"), (name, ">i8" if index < 2 else ">f8"))
    ]
)


async def postgres_table(driver: Any, sql: str, params: list[Any]) -> npt.NDArray[np.float64]:
    """The rows through binary COPY into one buffer: no Record, tuple or float per value."""
    chunks: list[bytes] = []

    async def collect(chunk: bytes) -> None:
        chunks.append(bytes(chunk))

    await driver.copy_from_query(sql, *params, output=collect, format="binary")
    body = b"".join(chunks)[_COPY_HEADER:-_COPY_TRAILER]
    rows = np.frombuffer(body, dtype=_COPY_ROW)
    if not rows.size:
        return np.empty((0, len(_COLUMNS)))
    return np.column_stack([rows[name].astype(np.float64) for name in _COLUMNS])
