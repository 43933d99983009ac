"""Logging, request context, health (metrics and alerts arrive with the monitoring issue)."""
