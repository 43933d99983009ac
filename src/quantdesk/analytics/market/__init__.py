"""Market overview (summary, movers, sectors) and the screener, read from a snapshot of every
instrument's last complete session that the `market.refresh` job rebuilds."""
