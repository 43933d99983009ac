"""Prometheus metrics of the WebSocket streams (observability/metrics.py conventions)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

WS_CONNECTIONS = Gauge("ws_connections", "Open WebSocket connections", multiprocess_mode="livesum")
WS_SUBSCRIPTIONS = Gauge(
    "ws_subscriptions",
    "Channel subscriptions held by open connections",
    multiprocess_mode="livesum",
)
WS_MESSAGES_SENT = Counter(
    "ws_messages_sent_total", "Event frames queued for WebSocket clients (one per delivery)"
)
WS_SENDS = Counter("ws_sends_total", "WebSocket messages sent (a batch of frames counts once)")
WS_SLOW_CLIENTS = Counter(
    "ws_slow_clients_dropped_total", "Connections closed because their outbound queue overflowed"
)
WS_CLOSED = Counter("ws_closed_total", "Connections closed by the server, by close code", ["code"])
WS_FANOUT_SECONDS = Histogram(
    "ws_fanout_seconds",
    "Time from an event reaching the hub to its frame queued for every subscriber",
    buckets=(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5),
)
