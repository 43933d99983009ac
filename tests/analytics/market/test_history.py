"""The bulk history read's grouping: rows in index order, newest-first blocks (PostgreSQL's
LATERAL read) and any other order all give each instrument its bars in ascending time."""

from __future__ import annotations

import numpy as np

from quantdesk.analytics.market.history import split


def _table() -> np.ndarray:
    rows = [(iid, ts, 1.0, 2.0, 0.5, float(ts), 10.0) for iid in (3, 7, 9) for ts in (1, 2, 3)]
    return np.asarray(rows, dtype=np.float64)


def _check(frames: dict[int, object]) -> None:
    assert sorted(frames) == [3, 7, 9]
    for frame in frames.values():
        assert frame.ts.tolist() == [1, 2, 3]  # type: ignore[attr-defined]
        assert frame.close.tolist() == [1.0, 2.0, 3.0]  # type: ignore[attr-defined]


def test_index_order_newest_first_blocks_and_shuffled_rows_all_split_ascending() -> None:
    table = _table()
    newest_first = np.concatenate([table[i : i + 3][::-1] for i in (0, 3, 6)])
    shuffled = table[np.random.default_rng(3).permutation(len(table))]
    for candidate in (table, newest_first, shuffled):
        _check(split(candidate))  # type: ignore[arg-type]
    assert split(np.empty((0, 7))) == {}
