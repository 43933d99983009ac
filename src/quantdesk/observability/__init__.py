"""Logging, request context, health, Prometheus metrics, and the performance monitor with
its alerts."""
