"""Export jobs: bars, signals, backtest trades, orders, ledger and audit rows as CSV, Parquet,
XLSX or JSON Lines files, written in bounded memory and downloaded through signed links
(docs/exports.md)."""
