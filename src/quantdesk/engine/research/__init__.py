"""Pure research computations: financial ratios from reported statements, price performance
through the backtest engine's statistics, and the numeric guard for generated prose."""
