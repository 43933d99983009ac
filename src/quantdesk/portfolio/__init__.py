"""The paper trading desk: accounts, orders, fills, positions and P&L on a double-entry ledger,
driven by market events (docs/paper-trading.md)."""
