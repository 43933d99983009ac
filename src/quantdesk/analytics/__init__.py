"""Analytics: market overview and screener, sentiment aggregates, research reports — computed
from stored market and reference data (a domain: it reads marketdata through its services and
tables, and computes with quantdesk.engine)."""
