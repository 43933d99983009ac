"""Bar files in the layout `marketdata.fetch_bars` reads (SYMBOL_TIMEFRAME.csv)."""

from __future__ import annotations

from pathlib import Path

from quantdesk.marketdata.frames import BarFrame


def write_bars_csv(folder: Path, symbol: str, timeframe: str, frame: BarFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{symbol}_{timeframe}.csv"
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [
        f"{int(t)},{o!r},{h!r},{lo!r},{c!r},{v!r}"
        for t, o, h, lo, c, v in zip(*(column.tolist() for column in frame.columns()), strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path
