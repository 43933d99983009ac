"""Reference-data jobs (`fx.fetch_rates`, `economy.fetch_series`, `reports.fetch_financials`)."""
