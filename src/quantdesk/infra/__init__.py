"""Swappable infrastructure: one small interface per concern, a memory implementation for the
embedded mode and a Redis one for the distributed mode (ARCHITECTURE.md).
No module outside this package knows which implementation it was given.

Import the concern's module directly (e.g. `quantdesk.infra.state`); this file stays empty so
each concern can be added without touching the others.
"""
