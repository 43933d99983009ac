"""Bar files where the files provider (the default bars chain) finds them:
`{providers_files_dirs entry}/{SYMBOL}_{timeframe}.csv`."""

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
    # Written whole, then renamed: a job reading the folder never sees half a file.
    partial = path.with_suffix(".partial")
    partial.write_text("\n".join(lines) + "\n")
    partial.replace(path)
    return path
