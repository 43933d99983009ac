"""Realtime streams: WebSocket subscriptions to market data, signals, orders, alerts, news and
jobs, fed by the internal event bus (docs/realtime.md)."""
