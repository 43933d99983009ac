"""Operator-facing endpoints and services: health probes, /metrics, the performance monitor and
its alerts, cache and IP-block administration. They sit above auth (admin-only details), so the
telemetry primitives in `observability` never import it.
"""
